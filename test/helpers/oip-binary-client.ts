/**
 * A raw client for Triton's binary tensor data extension, written from the protocol's text (not from gpux's
 * code): values → little-endian bytes per OIP datatype, a body of JSON header + tensor bytes, and an answer
 * split back into its JSON header and per-output bytes.
 */

/** Bytes of one tensor's values in the extension's layout; FP16 values are given as their 16-bit patterns. */
export function tensorBytes(datatype: string, values: readonly unknown[]): Uint8Array {
  if (datatype === "BYTES") {
    const parts = values.map((v) => new TextEncoder().encode(v as string));
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const part of parts) {
      view.setUint32(offset, part.length, true);
      out.set(part, offset + 4);
      offset += 4 + part.length;
    }
    return out;
  }
  const writers: Record<string, [number, (view: DataView, at: number, value: unknown) => void]> = {
    BOOL: [1, (v, at, x) => v.setUint8(at, x ? 1 : 0)],
    UINT8: [1, (v, at, x) => v.setUint8(at, x as number)],
    UINT16: [2, (v, at, x) => v.setUint16(at, x as number, true)],
    UINT32: [4, (v, at, x) => v.setUint32(at, x as number, true)],
    UINT64: [8, (v, at, x) => v.setBigUint64(at, BigInt(x as string | number), true)],
    INT8: [1, (v, at, x) => v.setInt8(at, x as number)],
    INT16: [2, (v, at, x) => v.setInt16(at, x as number, true)],
    INT32: [4, (v, at, x) => v.setInt32(at, x as number, true)],
    INT64: [8, (v, at, x) => v.setBigInt64(at, BigInt(x as string | number), true)],
    FP16: [2, (v, at, x) => v.setUint16(at, x as number, true)],
    FP32: [4, (v, at, x) => v.setFloat32(at, x as number, true)],
    FP64: [8, (v, at, x) => v.setFloat64(at, x as number, true)],
  };
  const [size, write] = writers[datatype] ?? [];
  if (!size || !write) throw new Error(`no writer for ${datatype}`);
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) write(view, i * size, values[i]);
  return out;
}

/** A binary request: the JSON header, then each part in order; headers say the JSON's length. */
export function binaryBody(
  json: unknown,
  parts: readonly Uint8Array[],
): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(JSON.stringify(json));
  return {
    body: Buffer.concat([header, ...parts]),
    headers: { "inference-header-content-length": String(header.length) },
  };
}

export interface BinaryAnswer {
  status: number;
  contentType: string | null;
  /** The JSON header (the whole body when the answer has no binary part). */
  json: {
    outputs?: Array<{
      name: string;
      datatype: string;
      shape: number[];
      data?: unknown[];
      parameters?: Record<string, unknown>;
    }>;
    error?: string;
    hint?: string;
    [key: string]: unknown;
  };
  /** Output name → its bytes, for outputs answered in binary. */
  parts: Map<string, Uint8Array>;
}

/** POST a body and split the answer by Inference-Header-Content-Length and each output's binary_data_size. */
export async function postBinary(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<BinaryAnswer> {
  const response = await fetch(url, { method: "POST", body, headers });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headerLength = response.headers.get("inference-header-content-length");
  const jsonEnd = headerLength === null ? bytes.length : Number(headerLength);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, jsonEnd))) as BinaryAnswer["json"];
  const parts = new Map<string, Uint8Array>();
  let offset = jsonEnd;
  for (const output of json.outputs ?? []) {
    const size = output.parameters?.binary_data_size;
    if (typeof size !== "number") continue;
    parts.set(output.name, bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== bytes.length) throw new Error(`answer has ${bytes.length - offset} bytes past its parts`);
  return { status: response.status, contentType: response.headers.get("content-type"), json, parts };
}

/** IEEE 754 half bits → number, from the format's definition. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Bytes of one tensor → values as OIP's JSON form writes them (64-bit integers past 2^53 as strings). */
export function tensorValues(datatype: string, bytes: Uint8Array): unknown[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = [];
  if (datatype === "BYTES") {
    for (let at = 0; at < bytes.length; ) {
      const length = view.getUint32(at, true);
      out.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    return out;
  }
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  const big = (value: bigint) => (value >= -safe && value <= safe ? Number(value) : String(value));
  const readers: Record<string, [number, (at: number) => unknown]> = {
    BOOL: [1, (at) => view.getUint8(at) === 1],
    UINT8: [1, (at) => view.getUint8(at)],
    UINT16: [2, (at) => view.getUint16(at, true)],
    UINT32: [4, (at) => view.getUint32(at, true)],
    UINT64: [8, (at) => big(view.getBigUint64(at, true))],
    INT8: [1, (at) => view.getInt8(at)],
    INT16: [2, (at) => view.getInt16(at, true)],
    INT32: [4, (at) => view.getInt32(at, true)],
    INT64: [8, (at) => big(view.getBigInt64(at, true))],
    FP16: [2, (at) => halfToNumber(view.getUint16(at, true))],
    FP32: [4, (at) => view.getFloat32(at, true)],
    FP64: [8, (at) => view.getFloat64(at, true)],
  };
  const [size, read] = readers[datatype] ?? [];
  if (!size || !read) throw new Error(`no reader for ${datatype}`);
  for (let at = 0; at < bytes.length; at += size) out.push(read(at));
  return out;
}
