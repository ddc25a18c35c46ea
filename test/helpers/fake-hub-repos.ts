/**
 * Repos for the fake hub (fake-hub.ts): a tiny ONNX model (y = x + w) with its weights inline or in an
 * external data file, ONNX repos laid out as Optimum / transformers.js publish them (onnx/model.onnx plus
 * variants), checkpoint-only repos, and any folder on disk (for Python-exported tiny transformers models).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import onnxProto from "onnx-proto";
import type { FakeRepo } from "./fake-hub.js";

const { onnx } = onnxProto;

export interface TinyOnnxOptions {
  /** Length of w (and of x's last axis). Default 4. */
  width?: number;
  /** Store w in `<externalData>` beside the model instead of inline. */
  externalData?: string;
  /** ONNX metadata_props, e.g. to make variants differ. */
  metadata?: Record<string, string>;
}

/** y = x + w, x: float32 [batch, width], w = [1, 2, …, width]. Returns the model bytes and external data, if any. */
export function tinyOnnxModel(options: TinyOnnxOptions = {}): { model: Uint8Array; data?: Uint8Array } {
  const width = options.width ?? 4;
  const weights = Float32Array.from({ length: width }, (_, i) => i + 1);
  const raw = new Uint8Array(weights.buffer);
  const tensor = onnx.TensorProto.create({
    name: "w",
    dims: [width],
    dataType: onnx.TensorProto.DataType.FLOAT,
    ...(options.externalData
      ? {
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            onnx.StringStringEntryProto.create({ key: "location", value: options.externalData }),
            onnx.StringStringEntryProto.create({ key: "offset", value: "0" }),
            onnx.StringStringEntryProto.create({ key: "length", value: String(raw.length) }),
          ],
        }
      : { rawData: raw }),
  });
  const value = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({
            dim: [
              onnx.TensorShapeProto.Dimension.create({ dimParam: "batch" }),
              onnx.TensorShapeProto.Dimension.create({ dimValue: width }),
            ],
          }),
        }),
      }),
    });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "gpux-fake-hub",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 17 })],
    graph: onnx.GraphProto.create({
      name: "add_w",
      node: [onnx.NodeProto.create({ name: "add", opType: "Add", input: ["x", "w"], output: ["y"] })],
      input: [value("x")],
      output: [value("y")],
      initializer: [tensor],
    }),
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, v]) =>
      onnx.StringStringEntryProto.create({ key, value: v }),
    ),
  });
  return { model: onnx.ModelProto.encode(model).finish(), data: options.externalData ? raw : undefined };
}

export interface OnnxRepoOptions {
  /** Width of the tiny model; large values make a large external data file. Default 4. */
  width?: number;
  /** Keep weights in onnx/model.onnx_data. Default true. */
  externalData?: boolean;
  /** Extra variants: fp16, quantized, q4 … (each a copy of the model with a different name). */
  variants?: string[];
  /** Hub pipeline_tag; default text-classification; null for none. */
  pipelineTag?: string | null;
  /** config.json content; default a text-classification config with two labels. */
  config?: Record<string, unknown>;
  /** Files that must never be fetched for this repo (to prove file selection). */
  extraFiles?: Record<string, Uint8Array | string>;
}

/** An ONNX repo laid out as transformers.js / Optimum publish them. */
export function onnxRepo(id: string, options: OnnxRepoOptions = {}): FakeRepo {
  const dataName = options.externalData === false ? undefined : "model.onnx_data";
  const { model, data } = tinyOnnxModel({ width: options.width, externalData: dataName });
  const files: Record<string, Uint8Array | string> = {
    "onnx/model.onnx": model,
    "config.json": JSON.stringify(
      options.config ?? {
        architectures: ["BertForSequenceClassification"],
        model_type: "bert",
        id2label: { "0": "NEGATIVE", "1": "POSITIVE" },
      },
    ),
    "README.md": `---\nlicense: mit\n---\n\n# ${id}\n\nA tiny test model that adds a weight vector to its input.\n`,
    ".gitattributes": "*.onnx filter=lfs diff=lfs merge=lfs -text\n",
    ...options.extraFiles,
  };
  if (data && dataName) files[`onnx/${dataName}`] = data;
  for (const variant of options.variants ?? []) {
    const suffix = `_${variant}`;
    const v = tinyOnnxModel({ width: options.width, metadata: { variant } });
    files[`onnx/model${suffix}.onnx`] = v.model;
  }
  const pipelineTag =
    options.pipelineTag === null ? undefined : (options.pipelineTag ?? "text-classification");
  return { id, files, pipelineTag };
}

/** Every file under `dir` as a repo (for tiny models exported by Python into test-output/). */
export function repoFromFolder(dir: string, id: string, extra: Partial<FakeRepo> = {}): FakeRepo {
  const files: Record<string, Uint8Array> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const full = join(current, name);
      if (statSync(full).isDirectory()) walk(full);
      else files[relative(dir, full).split("\\").join("/")] = readFileSync(full);
    }
  };
  walk(dir);
  return { id, files, ...extra };
}
