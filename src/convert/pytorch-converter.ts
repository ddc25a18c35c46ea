import { createBridgeConverter } from "./bridge-converter.js";
import type { Snapshot } from "./converter.js";

/** Top-level PyTorch weights: safetensors (preferred by the bridge) or pytorch_model*.bin. */
function hasPytorchWeights(files: readonly string[]): boolean {
  return files.some(
    (f) => !f.includes("/") && (f.endsWith(".safetensors") || /^pytorch_model.*\.bin$/.test(f)),
  );
}

/** transformers PyTorch checkpoints, exported with torch.onnx through the Python bridge. */
export const pytorchConverter = createBridgeConverter({
  name: "pytorch",
  framework: "pytorch",
  canConvert: (snapshot: Snapshot) => hasPytorchWeights(snapshot.files),
  needsConfig: () => true,
});
