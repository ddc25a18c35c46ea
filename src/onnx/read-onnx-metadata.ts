import { type FileHandle, open } from "node:fs/promises";
import { UserError } from "../util/errors.js";

/** Model-level facts stored in an ONNX file, outside the graph. */
export interface OnnxFileMetadata {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  /** Opset per domain; "" is the default ONNX domain (`ai.onnx`). */
  opsets: Record<string, number>;
  /** ModelProto.metadata_props as key → value. */
  metadataProps: Record<string, string>;
}

/** A minimal protobuf reader: enough for ModelProto's top-level fields. */
export class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.bytes.length) throw new Error("truncated varint");
      const byte = this.bytes[this.offset++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new Error("varint too long");
    }
  }

  bytesField(): Uint8Array {
    const length = this.varint();
    const end = this.offset + length;
    if (end > this.bytes.length) throw new Error("truncated field");
    const out = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytesField()).toString("utf8");
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.bytesField();
    else if (wireType === 5) this.offset += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function readStringPair(bytes: Uint8Array, first: number, second: number): [string, string | number] {
  const reader = new Reader(bytes);
  let a = "";
  let b: string | number = "";
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === first && wire === 2) a = reader.string();
    else if (field === second && wire === 2) b = reader.string();
    else if (field === second && wire === 0) b = reader.varint();
    else reader.skip(wire);
  }
  return [a, b];
}

/** Parse ModelProto's top-level fields from file bytes, skipping the graph (and its weights). */
export function parseOnnxMetadata(bytes: Uint8Array): OnnxFileMetadata {
  const reader = new Reader(bytes);
  const meta: OnnxFileMetadata = { opsets: {}, metadataProps: {} };
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (field) {
      case 1:
        meta.irVersion = reader.varint();
        break;
      case 2:
        meta.producerName = reader.string();
        break;
      case 3:
        meta.producerVersion = reader.string();
        break;
      case 4:
        meta.domain = reader.string();
        break;
      case 5:
        meta.modelVersion = reader.varint();
        break;
      case 6:
        meta.docString = reader.string();
        break;
      case 8: {
        // OperatorSetIdProto: domain = 1, version = 2
        const [domain, version] = readStringPair(reader.bytesField(), 1, 2);
        meta.opsets[domain] = Number(version);
        break;
      }
      case 14: {
        // StringStringEntryProto: key = 1, value = 2
        const [key, value] = readStringPair(reader.bytesField(), 1, 2);
        meta.metadataProps[key] = String(value);
        break;
      }
      default:
        reader.skip(wire);
    }
  }
  return meta;
}

/** ModelProto.graph: the nodes and (inline) weights, nearly all of a file, which metadata does not need. */
const graphField = 7;

/**
 * ModelProto's top-level fields other than the graph, read field by field: the graph is skipped by its
 * length, never read, so a 268 MB single-file model costs a few small reads instead of 268 MB.
 */
async function readTopLevelFields(handle: FileHandle): Promise<Uint8Array> {
  const size = (await handle.stat()).size;
  const kept: Uint8Array[] = [];
  const head = Buffer.alloc(20); // a tag and a length: two varints of at most 10 bytes
  let position = 0;
  while (position < size) {
    const { bytesRead } = await handle.read(head, 0, head.length, position);
    const reader = new Reader(head.subarray(0, bytesRead));
    const tag = reader.varint();
    const wire = tag & 7;
    let end: number;
    if (wire === 2) end = position + reader.varint() + reader.offset;
    else if (wire === 0) {
      reader.varint();
      end = position + reader.offset;
    } else if (wire === 1) end = position + reader.offset + 8;
    else if (wire === 5) end = position + reader.offset + 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (end > size) throw new Error("truncated field");
    if (Math.floor(tag / 8) !== graphField) {
      const field = Buffer.alloc(end - position);
      await handle.read(field, 0, field.length, position);
      kept.push(field);
    }
    position = end;
  }
  return Buffer.concat(kept);
}

/** Read an ONNX file's model-level metadata. */
export async function readOnnxMetadata(path: string): Promise<OnnxFileMetadata> {
  const handle = await open(path, "r");
  try {
    return parseOnnxMetadata(await readTopLevelFields(handle));
  } catch (error) {
    throw new UserError(`'${path}' is not a valid ONNX model (${(error as Error).message}).`, {
      hint: "Check that the file is a complete .onnx file (re-download or re-export it).",
      cause: error,
    });
  } finally {
    await handle.close();
  }
}
