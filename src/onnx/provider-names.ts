// Provider names only, without onnxruntime-node: the config schema and commands that never open a session
// (pull, ls, rm) import this, so they do not pay for loading the native binding.

/** Execution providers gpux knows by name, in the order `auto` tries them. */
export const providerPreference = ["tensorrt", "cuda", "dml", "coreml", "webgpu", "cpu"] as const;
export type ProviderName = (typeof providerPreference)[number];

/** Names users may type, mapped to gpux's provider names. */
const aliases: Record<string, ProviderName | "rocm" | "openvino"> = {
  tensorrt: "tensorrt",
  trt: "tensorrt",
  cuda: "cuda",
  gpu: "cuda",
  dml: "dml",
  directml: "dml",
  coreml: "coreml",
  webgpu: "webgpu",
  cpu: "cpu",
  rocm: "rocm",
  migraphx: "rocm",
  openvino: "openvino",
};

/** Normalise a provider name from a flag or gpux.yml; undefined for names gpux does not know. */
export function parseProviderName(name: string): ProviderName | "rocm" | "openvino" | "auto" | undefined {
  const lower = name.toLowerCase().replace(/executionprovider$/, "");
  if (lower === "auto") return "auto";
  return aliases[lower];
}
