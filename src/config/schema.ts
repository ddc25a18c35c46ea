import { z } from "zod";
import { parseDtype } from "../onnx/dtypes.js";
import { parseProviderName } from "../onnx/provider-names.js";
import { taskNames as tableTaskNames } from "../tasks.js";
import { defaults } from "../util/settings.js";
import { generationSettingsSchema } from "./generation-settings.js";

/**
 * gpux.yml, as the earlier Python gpux accepted it plus what gpux adds. Objects are strict so that
 * unknown keys are found (load-config turns them into warnings); every field is documented in
 * docs/reference/gpux-yml.md with its effect.
 */

const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$/i;
const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "2GB" / "512MiB" / 1073741824 → bytes. */
const byteSize = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  const match = sizePattern.exec(value);
  if (!match) {
    ctx.addIssue({ code: "custom", message: `expected a size such as "2GB" or "512MiB", got "${value}"` });
    return z.NEVER;
  }
  return Math.round(Number(match[1]) * (sizeUnits[(match[2] ?? "b").toLowerCase()] as number));
});

const dtypeName = z.string().transform((value, ctx) => {
  const dtype = parseDtype(value);
  if (!dtype) {
    ctx.addIssue({
      code: "custom",
      message: `unknown type "${value}"; expected float32, float16, float64, int8/16/32/64, uint8/16/32/64, bool or string`,
    });
    return z.NEVER;
  }
  return dtype;
});

const dim = z.union([z.number().int(), z.string(), z.null()]);

export const backendNames = [
  "auto",
  "tensorrt",
  "cuda",
  "dml",
  "directml",
  "coreml",
  "webgpu",
  "cpu",
  "rocm",
  "openvino",
];
const backend = z.string().refine((value) => parseProviderName(value) !== undefined, {
  message: `expected one of ${backendNames.join(", ")}`,
});

const inputFields = {
  type: dtypeName.optional(),
  shape: z.array(dim).optional(),
  required: z.boolean().default(true),
  max_length: z.number().int().positive().optional(),
  description: z.string().optional(),
};
const outputFields = {
  type: dtypeName.optional(),
  shape: z.array(dim).optional(),
  labels: z.array(z.string()).optional(),
  description: z.string().optional(),
};

/** inputs/outputs: a list of `{name, …}`, a mapping `name: {…}`, or a mapping `name: type`; always a list after parsing. */
function tensorList<T extends z.ZodRawShape>(fields: T) {
  const named = z.strictObject({ name: z.string().min(1), ...fields });
  return z.preprocess((value) => {
    if (!value || typeof value !== "object" || Array.isArray(value)) return value;
    return Object.entries(value).map(([name, spec]) =>
      typeof spec === "string" ? { name, type: spec } : { name, ...(spec as object) },
    );
  }, z.array(named));
}

const normalize = z.union([
  z.boolean(),
  z.enum(["imagenet", "none", "clip", "inception"]),
  z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }),
]);

export const taskNames = [...tableTaskNames, "raw"] as const;

export const configSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().default(defaults.model.version),
  description: z.string().optional(),
  /** What the model does; picks the pipeline. Absent: raw tensors in, raw tensors out. */
  task: z.enum(taskNames).optional(),
  model: z.strictObject({
    source: z.string().min(1),
    format: z.literal("onnx").default("onnx"),
    version: z.string().optional(),
  }),
  inputs: tensorList(inputFields).optional(),
  outputs: tensorList(outputFields).optional(),
  runtime: z
    .strictObject({
      provider: backend.optional(),
      gpu: z
        .strictObject({
          memory: byteSize.optional(),
          backend: backend.default("auto"),
        })
        .optional(),
      timeout: z.number().positive().default(defaults.runtime.timeoutSeconds),
      batch_size: z.number().int().positive().default(defaults.runtime.batchSize),
      enable_profiling: z.boolean().default(false),
      threads: z.number().int().positive().optional(),
    })
    .default({
      timeout: defaults.runtime.timeoutSeconds,
      batch_size: defaults.runtime.batchSize,
      enable_profiling: false,
    }),
  serving: z
    .strictObject({
      // no defaults here: a model that leaves these out must not outvote one that sets them (serve applies them)
      port: z.number().int().min(0).max(65535).optional(),
      host: z.string().optional(),
      batch_size: z.number().int().positive().optional(),
      max_batch_size: z.number().int().positive().optional(),
      max_queue_delay_ms: z.number().nonnegative().optional(),
      max_concurrency: z.number().int().positive().optional(),
      // text-generation models: the scheduler's running slots and its waiting bound
      max_concurrent_sequences: z.number().int().positive().optional(),
      max_waiting_sequences: z.number().int().nonnegative().optional(),
      timeout: z.number().positive().optional(),
      timeout_ms: z.number().positive().optional(),
      generation_timeout_ms: z.number().positive().optional(),
      max_workers: z.number().int().positive().optional(),
      workers: z.number().int().positive().optional(),
      api_key: z.string().optional(),
      cors: z.union([z.string(), z.array(z.string()), z.boolean()]).optional(),
      worker_nice: z.number().int().min(0).max(19).optional(),
      isolation: z.enum(["process", "thread"]).optional(),
      // Server-wide limits (src/server/server-limits.ts holds the defaults).
      body_limit: z.number().int().positive().optional(),
      binary_body_limit: z.number().int().positive().optional(),
      read_timeout_ms: z.number().int().positive().optional(),
      max_connections: z.number().int().positive().optional(),
      shutdown_timeout_ms: z.number().int().positive().optional(),
      max_answer_elements: z.number().int().positive().optional(),
    })
    .optional(),
  preprocessing: z
    .strictObject({
      tokenizer: z.string().optional(),
      max_length: z.number().int().positive().optional(),
      padding: z.enum(["longest", "max_length"]).optional(),
      resize: z
        .union([
          z.tuple([z.number().int().positive(), z.number().int().positive()]),
          z.number().int().positive(),
        ])
        .optional(),
      /** How `resize` applies: exact size, shortest edge, or PaddleOCR's fixed height with right padding. */
      resize_mode: z.enum(["exact", "shortest_edge", "fixed_height"]).optional(),
      center_crop: z
        .union([
          z.tuple([z.number().int().positive(), z.number().int().positive()]),
          z.number().int().positive(),
        ])
        .optional(),
      normalize: normalize.optional(),
      rescale: z.number().positive().optional(),
      channels: z.enum(["rgb", "bgr"]).optional(),
      custom: z.unknown().optional(),
    })
    .optional(),
  postprocessing: z
    .strictObject({
      function: z.enum(["softmax", "sigmoid", "none"]).optional(),
      top_k: z.number().int().positive().optional(),
      pooling: z.enum(["mean", "cls", "none"]).optional(),
      normalize: z.boolean().optional(),
      aggregation_strategy: z.enum(["none", "simple", "first", "average", "max"]).optional(),
    })
    .optional(),
  /** text-generation: sampling defaults (config/generation-settings.ts). */
  generation: generationSettingsSchema.optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

/** gpux.yml after validation and normalisation (inputs/outputs always lists, sizes in bytes). */
export type GpuxConfig = z.output<typeof configSchema>;
export type InputConfig = NonNullable<GpuxConfig["inputs"]>[number];
export type OutputConfig = NonNullable<GpuxConfig["outputs"]>[number];
