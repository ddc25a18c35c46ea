import { randomBytes } from "node:crypto";
import { existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WireTensor, WireTensorMap } from "../src/engine/wire-tensor.js";
import { dtypeInfo } from "../src/onnx/dtypes.js";

/**
 * The tensor file bench/ipc-transfer.ts measures against Node's IPC pipe: a way for `--isolation process` to
 * pass large tensors (above `tensorFileThreshold`) to and from its inference process, the message carrying
 * only offsets. Not adopted by the server: on the 2-core development VM it was not faster (1 MiB: 4.7-6.6 ms
 * per round trip against the pipe's 2.7-5.0 ms; 16 MiB: 44-70 against 60-82 ms, load average 10-16), because
 * memory copies themselves run at ~2.5 GB/s there and a freshly allocated buffer pays a page fault per 4 KiB.
 * It lives here, ready to wire into worker-host.ts / worker-port.ts, should a quiet machine show otherwise.
 */
export const tensorFileThreshold = 64 * 1024;

/** A tensor whose bytes wait in the tensor file, at `offset`, instead of riding in the message. */
export interface FiledTensor {
  type: WireTensor["type"];
  dims: number[];
  file: { offset: number; byteLength: number };
}

/** What a message between a server and its inference process carries: tensors, some of them in the file. */
export type MessageTensorMap = Record<string, WireTensor | FiledTensor>;

/**
 * A file both processes hold open, for the bytes of large tensors: on tmpfs (/dev/shm, else the temp folder),
 * so writing and reading it are memory copies. Not shared memory (Node 20 cannot map memory without a native
 * addon): one copy in, one copy out, instead of the pipe's serialise, write, read and deserialise. The name is
 * removed as soon as it is open, so nothing is left behind whatever happens: the memory is freed when the last
 * process holding it closes or dies.
 */
export function openTensorFile(): number {
  const dir = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const path = join(dir, `gpux-tensors-${process.pid}-${randomBytes(6).toString("hex")}`);
  const fd = openSync(path, "wx+", 0o600);
  unlinkSync(path);
  return fd;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength; ) {
    done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
  }
}

function readAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength; ) {
    const read = readSync(fd, bytes, done, bytes.byteLength - done, position + done);
    if (read === 0) throw new Error("tensor file ended early");
    done += read;
  }
}

/**
 * One side's writer: one message's tensors at a time, from offset 0 (the other side reads them before the next
 * message is written: one batch per worker at a time). The file keeps the size of the largest message since
 * it last shrank, and is cut back when a message needs less than a quarter of it.
 */
export class TensorFileWriter {
  private size = 0;

  constructor(private readonly fd: number) {}

  /** Tensors of `threshold` bytes or more go to the file; if it cannot take them (a full tmpfs), the message. */
  put(tensors: WireTensorMap, threshold = tensorFileThreshold): MessageTensorMap {
    const out: MessageTensorMap = {};
    let offset = 0;
    for (const [name, tensor] of Object.entries(tensors)) {
      const data = tensor.data;
      out[name] = tensor;
      if (!ArrayBuffer.isView(data) || data.byteLength < threshold) continue;
      try {
        writeAll(this.fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
      } catch {
        continue;
      }
      out[name] = { type: tensor.type, dims: tensor.dims, file: { offset, byteLength: data.byteLength } };
      offset += data.byteLength;
    }
    if (offset > this.size) this.size = offset;
    else if (this.size > 1024 * 1024 && offset < this.size / 4) {
      ftruncateSync(this.fd, offset);
      this.size = offset;
    }
    return out;
  }
}

/** The tensors of a message, those in the file read back into arrays of their own. */
export function takeTensors(fd: number | undefined, tensors: MessageTensorMap): WireTensorMap {
  const out: WireTensorMap = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!("file" in tensor)) {
      out[name] = tensor;
      continue;
    }
    const Ctor = dtypeInfo(tensor.type)?.array;
    if (fd === undefined || !Ctor) throw new Error(`tensor '${name}' is in a tensor file this side lacks`);
    const bytes = new Uint8Array(tensor.file.byteLength);
    readAll(fd, bytes, tensor.file.offset);
    const data = new Ctor(bytes.buffer, 0, tensor.file.byteLength / Ctor.BYTES_PER_ELEMENT);
    out[name] = { type: tensor.type, dims: tensor.dims, data };
  }
  return out;
}
