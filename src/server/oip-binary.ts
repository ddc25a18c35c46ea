/**
 * Tensors in Triton's binary tensor data extension to the Open Inference Protocol: little-endian, row-major,
 * no padding; BOOL one byte (0 or 1); FP16 its 16 bits; BYTES each element as a 4-byte little-endian length
 * followed by its bytes. The typed arrays below use the platform's byte order, which is little-endian on every
 * platform ONNX Runtime's Node package ships for (x64, arm64).
 */
import type * as ort from "onnxruntime-node";
import { dtypeInfo, type NumericTensorData } from "../onnx/dtypes.js";
import { toFloat16Bits } from "../onnx/float16.js";
import { formatShape, type TensorSpec } from "../onnx/tensor-spec.js";
import { encodeFlatTensor, encodeTypedTensor } from "../runtime/encode-tensor.js";
import { UserError } from "../util/errors.js";

const bytesHint =
  "binary_data_size must be the tensor's byte length: elements × bytes per element (BYTES: 4 + length per element).";

function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** BYTES elements: each a 4-byte little-endian length, then that many bytes of UTF-8 (ONNX Runtime holds strings). */
function readStrings(name: string, bytes: Uint8Array, count: number): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const out: string[] = [];
  let offset = 0;
  while (out.length < count) {
    const length = offset + 4 <= bytes.length ? view.getUint32(offset, true) : undefined;
    if (length === undefined || offset + 4 + length > bytes.length) {
      throw new UserError(
        `Input '${name}': its ${bytes.length} bytes of BYTES data end inside element ${out.length}; the shape needs ${count} elements.`,
        { hint: bytesHint },
      );
    }
    offset += 4;
    try {
      out.push(utf8.decode(bytes.subarray(offset, offset + length)));
    } catch {
      throw new UserError(`Input '${name}': BYTES element ${out.length} is not valid UTF-8.`, {
        hint: "gpux's models take BYTES as text: send UTF-8 strings (binary data as base64, for example).",
      });
    }
    offset += length;
  }
  if (offset !== bytes.length) {
    throw new UserError(
      `Input '${name}': ${bytes.length - offset} bytes of BYTES data are left after the ${count} elements its shape holds.`,
      { hint: bytesHint },
    );
  }
  return out;
}

/** One input's binary data → an ONNX Runtime tensor, checked against the model's input (shape, size, values). */
export function decodeBinaryTensor(
  spec: TensorSpec,
  shape: readonly number[],
  bytes: Uint8Array,
): ort.Tensor {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new UserError(`Input '${spec.name}': dtype ${spec.dtype} is not supported by gpux.`);
  const count = elementCount(shape);
  if (!info.array) return encodeFlatTensor(spec, readStrings(spec.name, bytes, count), shape);
  if (count * info.bytesPerElement !== bytes.length) {
    throw new UserError(
      `Input '${spec.name}': binary_data_size is ${bytes.length} bytes; shape ${formatShape(shape)} of ${info.oip} needs ${count * info.bytesPerElement}.`,
      { hint: bytesHint },
    );
  }
  // a copy: the body's bytes sit at any offset, and typed arrays need one aligned to their element size
  const data = new info.array(count) as NumericTensorData;
  new Uint8Array(data.buffer).set(bytes);
  if (info.dtype === "bool") {
    const bad = (data as Uint8Array).findIndex((byte) => byte > 1);
    if (bad >= 0) {
      throw new UserError(`Input '${spec.name}': BOOL element ${bad} is byte ${data[bad]}, not 0 or 1.`, {
        hint: "Send BOOL as one byte per element: 1 for true, 0 for false.",
      });
    }
  }
  return encodeTypedTensor(spec, data, shape);
}

function bytesOf(data: NumericTensorData): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** An output tensor's bytes in the binary extension's layout (numbers are a view of the tensor, not a copy). */
export function encodeBinaryTensor(tensor: ort.Tensor): Buffer {
  const data = tensor.data;
  if (tensor.type === "string") {
    const parts: Buffer[] = [];
    for (const value of data as string[]) {
      const text = Buffer.from(value, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      parts.push(length, text);
    }
    return Buffer.concat(parts);
  }
  // float16 travels as its bits; a tensor holding it as floats (as decode-tensor.ts allows) is rounded back
  if (tensor.type === "float16" && data instanceof Float32Array)
    return bytesOf(Uint16Array.from(data, toFloat16Bits));
  return bytesOf(data as NumericTensorData);
}
