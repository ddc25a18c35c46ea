import { UserError } from "../util/errors.js";
import type { Converter, Snapshot } from "./converter.js";
import { passthroughConverter } from "./passthrough-converter.js";
import { discardPrestartedBridge, prestartBridge } from "./python-bridge.js";
import { pytorchConverter } from "./pytorch-converter.js";
import { kerasConverter, tensorflowConverter } from "./tensorflow-converter.js";

/** Converters in the order they are asked; the first that can handle a snapshot does the work. */
export const converters: Converter[] = [
  passthroughConverter,
  pytorchConverter,
  kerasConverter,
  tensorflowConverter,
];

export function selectConverter(snapshot: Snapshot): Converter {
  const converter = converters.find((candidate) => candidate.canConvert(snapshot));
  if (!converter) {
    throw new UserError(`Nothing in ${snapshot.repoId ?? snapshot.dir} can be turned into ONNX.`, {
      hint: "gpux needs an .onnx file, a transformers checkpoint (config.json + weights), or a Keras .keras/.h5 file.",
    });
  }
  return converter;
}

/**
 * Called with the format of the files a pull chose, before they download: a checkpoint's converter starts
 * now, so Python imports its framework while the weights arrive. `stopUnusedConverters` ends it if unused.
 */
export function prepareConverterFor(format: string): void {
  if (format === "safetensors" || format === "pytorch") prestartBridge("pytorch");
  else if (format === "keras") prestartBridge("keras");
  else if (format === "tensorflow") prestartBridge("tensorflow");
}

export const stopUnusedConverters = discardPrestartedBridge;
