import type { Dtype } from "../../onnx/dtypes.js";
import type { TensorSpec } from "../../onnx/tensor-spec.js";
import { UserError } from "../../util/errors.js";

type Json = Record<string, unknown>;

/** One layer's cache: which input takes the past and which output gives the present, for keys and values. */
export interface CacheLayer {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

/** What a decoder graph takes and gives, in the names this graph uses. */
export interface DecoderIo {
  inputIds: string;
  attentionMask?: string;
  positionIds?: string;
  /** Optimum's merged decoders: false for the prefill, true once there is a past. */
  useCacheBranch?: string;
  /** Present when the graph can return logits for the last positions only (`num_logits_to_keep`). */
  logitsToKeep?: string;
  logits: string;
  layers: CacheLayer[];
  /** Element type of the cache (float16 for fp16 and q4f16 variants). */
  cacheDtype: Dtype;
  kvHeads: number;
  headDim: number;
}

const pastPatterns = [/^past_key_values\.(\d+)\.(key|value)$/, /^past\.(\d+)\.(key|value)$/];
const presentPrefixes = ["present.", "present_key_values."];

function numberAt(json: Json | undefined, ...path: string[]): number | undefined {
  let node: unknown = json;
  for (const key of path) node = node && typeof node === "object" ? (node as Json)[key] : undefined;
  return typeof node === "number" && Number.isInteger(node) && node > 0 ? node : undefined;
}

function stringAt(json: Json | undefined, ...path: string[]): string | undefined {
  let node: unknown = json;
  for (const key of path) node = node && typeof node === "object" ? (node as Json)[key] : undefined;
  return typeof node === "string" && node.length > 0 ? node : undefined;
}

/** genai_config.json writes per-layer names as `past_key_values.%d.key`. */
function layerName(pattern: string | undefined, layer: number): string | undefined {
  return pattern?.replace("%d", String(layer));
}

function fail(message: string): never {
  throw new UserError(`This model cannot generate text: ${message}`, {
    hint: "Text generation needs a decoder exported with its KV cache (onnx-community / Optimum layout: past_key_values.N.key|value in, present.N.key|value out).",
  });
}

/** Layers from genai_config.json's name patterns, when it has them and the graph agrees. */
function layersFromGenai(genai: Json | undefined, inputs: Set<string>, outputs: Set<string>): CacheLayer[] {
  const names = (key: string, side: string) => stringAt(genai, "model", "decoder", side, key);
  const count = numberAt(genai, "model", "decoder", "num_hidden_layers");
  const pastKey = names("past_key_names", "inputs");
  if (!count || !pastKey) return [];
  const layers: CacheLayer[] = [];
  for (let i = 0; i < count; i++) {
    const layer = {
      pastKey: layerName(pastKey, i) as string,
      pastValue: layerName(names("past_value_names", "inputs"), i) ?? "",
      presentKey: layerName(names("present_key_names", "outputs"), i) ?? "",
      presentValue: layerName(names("present_value_names", "outputs"), i) ?? "",
    };
    if (!inputs.has(layer.pastKey) || !inputs.has(layer.pastValue)) return [];
    if (!outputs.has(layer.presentKey) || !outputs.has(layer.presentValue)) return [];
    layers.push(layer);
  }
  return layers;
}

/** Layers found by name in the graph: past_key_values.N.key → present.N.key. */
function layersFromGraph(inputs: readonly TensorSpec[], outputs: Set<string>): CacheLayer[] {
  const byLayer = new Map<number, Partial<CacheLayer>>();
  for (const input of inputs) {
    const match = pastPatterns.map((pattern) => pattern.exec(input.name)).find(Boolean);
    if (!match) continue;
    const layer = Number(match[1]);
    const kind = match[2] as "key" | "value";
    const present = presentPrefixes.map((prefix) => `${prefix}${layer}.${kind}`).find((n) => outputs.has(n));
    if (!present) fail(`input '${input.name}' has no matching present.${layer}.${kind} output.`);
    const entry = byLayer.get(layer) ?? {};
    if (kind === "key") Object.assign(entry, { pastKey: input.name, presentKey: present });
    else Object.assign(entry, { pastValue: input.name, presentValue: present });
    byLayer.set(layer, entry);
  }
  const layers = [...byLayer.keys()].sort((a, b) => a - b).map((i) => byLayer.get(i) as CacheLayer);
  for (const [i, layer] of layers.entries()) {
    if (!layer.pastKey || !layer.pastValue) fail(`layer ${i} has a key or a value cache input missing.`);
  }
  return layers;
}

/**
 * Read a decoder's inputs and outputs from the session, with config.json and genai_config.json (ONNX Runtime
 * GenAI's builder) for what the graph leaves symbolic: the names genai_config.json gives win, then the names
 * the graph has; kv heads and head size from the cache input's fixed dims, else the configs.
 */
export function readDecoderIo(
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  hfConfig: Json | undefined,
  genaiConfig: Json | undefined,
): DecoderIo {
  const inputNames = new Set(inputs.map((spec) => spec.name));
  const outputNames = new Set(outputs.map((spec) => spec.name));
  const named = (side: "inputs" | "outputs", key: string, fallback: string, present: Set<string>) => {
    const name = stringAt(genaiConfig, "model", "decoder", side, key) ?? fallback;
    return present.has(name) ? name : undefined;
  };
  const inputIds = named("inputs", "input_ids", "input_ids", inputNames);
  if (!inputIds) fail("the graph has no input_ids input.");
  const logits = named("outputs", "logits", "logits", outputNames);
  if (!logits) fail("the graph has no logits output.");
  const layers = layersFromGenai(genaiConfig, inputNames, outputNames);
  if (layers.length === 0) layers.push(...layersFromGraph(inputs, outputNames));
  if (layers.length === 0) fail("the graph has no past_key_values inputs (exported without its KV cache).");

  const cacheSpec = inputs.find((spec) => spec.name === layers[0]?.pastKey) as TensorSpec;
  const fixed = (i: number) => {
    const dim = cacheSpec.shape?.[i];
    return typeof dim === "number" && dim > 0 ? dim : undefined;
  };
  const heads = numberAt(hfConfig, "num_attention_heads") ?? numberAt(hfConfig, "n_head");
  const hidden = numberAt(hfConfig, "hidden_size") ?? numberAt(hfConfig, "n_embd");
  const kvHeads =
    fixed(1) ??
    numberAt(genaiConfig, "model", "decoder", "num_key_value_heads") ??
    numberAt(hfConfig, "num_key_value_heads") ??
    heads;
  const headDim =
    fixed(3) ??
    numberAt(genaiConfig, "model", "decoder", "head_size") ??
    numberAt(hfConfig, "head_dim") ??
    (hidden && heads ? hidden / heads : undefined);
  if (!kvHeads || !headDim || !Number.isInteger(headDim)) {
    fail("the number of kv heads and the head size are neither in the graph nor in config.json.");
  }
  const logitsToKeep = ["num_logits_to_keep", "logits_to_keep"].find((name) => inputNames.has(name));
  return {
    inputIds,
    attentionMask: named("inputs", "attention_mask", "attention_mask", inputNames),
    positionIds: named("inputs", "position_ids", "position_ids", inputNames),
    useCacheBranch: inputNames.has("use_cache_branch") ? "use_cache_branch" : undefined,
    logitsToKeep,
    logits,
    layers,
    cacheDtype: cacheSpec.dtype,
    kvHeads,
    headDim,
  };
}
