import { createBridgeConverter } from "./bridge-converter.js";
import type { Snapshot } from "./converter.js";

function isTransformersTf(files: readonly string[]): boolean {
  return files.includes("tf_model.h5");
}

/** TensorFlow: transformers' tf_model.h5, a SavedModel, or a Keras .keras/.h5 file, exported with tf2onnx. */
export const tensorflowConverter = createBridgeConverter({
  name: "tensorflow",
  framework: "tensorflow",
  canConvert: (snapshot: Snapshot) =>
    isTransformersTf(snapshot.files) ||
    snapshot.files.some((f) => !f.includes("/") && (f === "saved_model.pb" || /\.(keras|h5)$/.test(f))),
  needsConfig: (snapshot: Snapshot) => isTransformersTf(snapshot.files),
});
