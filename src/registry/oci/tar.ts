/**
 * The little of tar gpux needs: write a deterministic archive of model files (the modelcar layer: files under
 * `models/`, mtime 0, owner 0) and read the regular files of one (ustar, with pax and GNU long names), by
 * offset, so that each file is copied out of the archive without holding it in memory.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";

const block = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, type: "0" | "5" | "x", mode: number): Buffer {
  const buffer = Buffer.alloc(block);
  const split = splitName(name);
  buffer.write(split.name, 0, 100, "utf8");
  buffer.write(octal(mode, 8), 100, "ascii");
  buffer.write(octal(0, 8), 108, "ascii");
  buffer.write(octal(0, 8), 116, "ascii");
  buffer.write(octal(Math.min(size, 0o77777777777), 12), 124, "ascii");
  buffer.write(octal(0, 12), 136, "ascii");
  buffer.write("        ", 148, "ascii");
  buffer.write(type, 156, "ascii");
  buffer.write("ustar\0", 257, "ascii");
  buffer.write("00", 263, "ascii");
  buffer.write(split.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of buffer) sum += byte;
  buffer.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return buffer;
}

/** ustar's name/prefix split; the full name goes in a pax record when it does not fit. */
function splitName(name: string): { name: string; prefix: string } {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: "" };
  for (let at = name.indexOf("/"); at !== -1; at = name.indexOf("/", at + 1)) {
    const prefix = name.slice(0, at);
    const rest = name.slice(at + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { name: rest, prefix };
  }
  return { name: name.slice(0, 100), prefix: "" };
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (`${length}${body}`.length !== length) length = Buffer.byteLength(`${length}${body}`);
  return `${length}${body}`;
}

const padding = (size: number) => Buffer.alloc((block - (size % block)) % block);

export interface TarInput {
  /** Path inside the archive (`models/onnx/model.onnx`). */
  path: string;
  /** File on disk. */
  file: string;
  size: number;
}

/** Write `files` (with their parent folders) as a tar at `dest`; returns its sha256 hex and size. */
export async function writeTar(
  dest: string,
  files: readonly TarInput[],
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const out = createWriteStream(dest);
  let size = 0;
  const write = async (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) await once(out, "drain");
  };
  const folders = new Set<string>();
  for (const { path } of files) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(`${parts.slice(0, i).join("/")}/`);
  }
  for (const folder of [...folders].sort()) await write(header(folder, 0, "5", 0o755));
  for (const input of files) {
    const needsPax = Buffer.byteLength(input.path) > 100 && splitName(input.path).prefix === "";
    if (needsPax || input.size > 0o77777777777) {
      const records = Buffer.from(
        (needsPax ? paxRecord("path", input.path) : "") +
          (input.size > 0o77777777777 ? paxRecord("size", String(input.size)) : ""),
      );
      await write(header("././@PaxHeader", records.length, "x", 0o644));
      await write(records);
      await write(padding(records.length));
    }
    await write(header(input.path, input.size, "0", 0o644));
    for await (const chunk of createReadStream(input.file, { highWaterMark: 1 << 20 }))
      await write(chunk as Buffer);
    await write(padding(input.size));
  }
  await write(Buffer.alloc(block * 2));
  out.end();
  await once(out, "close");
  return { sha256: hash.digest("hex"), size };
}

export interface TarMember {
  path: string;
  /** Where the content starts in the archive. */
  offset: number;
  size: number;
}

const field = (buffer: Buffer, start: number, length: number) =>
  buffer.toString("utf8", start, start + length).replace(/\0.*$/s, "");

function parsePax(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (match) values[match[1] as string] = match[2] as string;
  }
  return values;
}

/** The regular files of a tar archive (folders, links and devices are left out). */
export async function listTar(path: string): Promise<TarMember[]> {
  const file = await open(path, "r");
  const members: TarMember[] = [];
  try {
    const head = Buffer.alloc(block);
    let offset = 0;
    let pending: Record<string, string> = {};
    for (;;) {
      const { bytesRead } = await file.read(head, 0, block, offset);
      if (bytesRead < block || head.every((byte) => byte === 0)) break;
      const type = String.fromCharCode(head[156] as number);
      const size =
        pending.size !== undefined
          ? Number(pending.size)
          : Number.parseInt(field(head, 124, 12).trim() || "0", 8);
      const prefix = field(head, 345, 155);
      const name = pending.path ?? (prefix ? `${prefix}/${field(head, 0, 100)}` : field(head, 0, 100));
      const data = offset + block;
      if (type === "x" || type === "L") {
        const body = Buffer.alloc(size);
        await file.read(body, 0, size, data);
        pending =
          type === "x"
            ? parsePax(body.toString("utf8"))
            : { path: body.toString("utf8").replace(/\0.*$/s, "") };
      } else {
        if (type === "0" || type === "\0" || type === "7") members.push({ path: name, offset: data, size });
        pending = {};
      }
      offset = data + Math.ceil(size / block) * block;
    }
  } finally {
    await file.close();
  }
  return members;
}
