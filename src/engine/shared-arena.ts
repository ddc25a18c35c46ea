import { closeSync, ftruncateSync, openSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "../util/log.js";
import { sharedMemory } from "./shared-memory.js";

/**
 * A worker process's shared arena: memory the server and that one inference process both map, so request
 * and answer tensors lie there and only their offsets cross the IPC pipe. Its room is handed out by
 * arena-space.ts: each batch gets the largest span no earlier answer still holds, its inputs first (a merged
 * batch is built there), then its outputs, which ONNX Runtime writes there itself when it can; the server
 * reads them in place and releases the span once the answers are encoded. A worker that dies takes its
 * mapping with it; its replacement gets a new arena.
 */
export interface HostArena {
  /** The open file, for fork's stdio; the server closes it once the child has it. */
  fd: number;
  buffer: ArrayBuffer;
}

/** The descriptor number an inference process finds its arena at (fork's stdio beyond the IPC channel). */
export const childArenaFd = 4;

/** Tmpfs first (memory, never written to disk); the temp folder where a container has no usable /dev/shm. */
const arenaFolders = ["/dev/shm", tmpdir()];

let warned = false;

/** A new arena, or undefined (then tensors take the pipe): no addon, switched off, or no room for one. */
export function createArena(): HostArena | undefined {
  const shared = sharedMemory();
  if (!shared.available) return undefined;
  for (const folder of arenaFolders) {
    const path = join(folder, `gpux-arena-${process.pid}-${Math.random().toString(36).slice(2)}`);
    let fd: number | undefined;
    try {
      fd = openSync(path, "w+", 0o600);
      unlinkSync(path); // at once: a crash of either process leaves nothing behind
      fill(fd, shared.arenaBytes);
      return { fd, buffer: shared.mapShared(fd, shared.arenaBytes) };
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(path);
      } catch {
        // already unlinked, or never created
      }
      if (!warned) log.debug(`no shared arena in ${folder}: ${(error as Error).message}`);
    }
  }
  if (!warned)
    log.warn("no room for a shared-memory arena: tensors cross to inference processes through the pipe");
  warned = true;
  return undefined;
}

/**
 * Write every page now: a sparse file on a full tmpfs (Docker gives /dev/shm 64 MiB) would fail later, as a
 * SIGBUS in whichever process first touched the page, instead of here as ENOSPC.
 */
function fill(fd: number, bytes: number): void {
  ftruncateSync(fd, 0);
  const zeros = Buffer.alloc(Math.min(bytes, 1024 * 1024));
  for (let at = 0; at < bytes; at += zeros.length)
    writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - at), at);
}

/** The inference process's side: map the arena it was given; undefined if it cannot (the pipe then). */
export function mapChildArena(bytes: number): ArrayBuffer | undefined {
  try {
    const shared = sharedMemory();
    return shared.available ? shared.mapShared(childArenaFd, bytes) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(childArenaFd); // the mapping stays; the descriptor is not needed
  }
}
