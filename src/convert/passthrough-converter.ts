import { join } from "node:path";
import { NotFoundError } from "../util/errors.js";
import type { Converter, ConvertOptions, ConvertResult, Snapshot } from "./converter.js";
import { findOnnxFile, listOnnxVariants } from "./onnx-variants.js";

/** The repo already ships ONNX: use it where it lies (with its external data beside it). */
export const passthroughConverter: Converter = {
  name: "passthrough",
  canConvert(snapshot: Snapshot): boolean {
    return listOnnxVariants(snapshot.files).length > 0;
  },
  async convert(snapshot: Snapshot, _outDir: string, options: ConvertOptions): Promise<ConvertResult> {
    const started = Date.now();
    const variant = options.variant ?? "fp32";
    const file = findOnnxFile(snapshot.files, variant);
    if (!file) {
      throw new NotFoundError(
        `No ONNX file for variant '${variant}' in ${snapshot.repoId ?? snapshot.dir}.`,
        {
          hint: `Variants available: ${listOnnxVariants(snapshot.files).join(", ") || "none"}; pass --variant.`,
        },
      );
    }
    return {
      onnxPath: join(snapshot.dir, file),
      report: { converter: "passthrough", durationMs: Date.now() - started },
    };
  },
};
