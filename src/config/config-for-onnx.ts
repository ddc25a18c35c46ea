import { basename, dirname, extname } from "node:path";
import type { LoadedConfig } from "./load-config.js";
import { configSchema } from "./schema.js";

/** A gpux.yml made on the fly for a bare .onnx file: its name is the file name, everything else default. */
export function configForOnnx(
  modelPath: string,
  name = basename(modelPath, extname(modelPath)),
): LoadedConfig {
  const config = configSchema.parse({ name, model: { source: basename(modelPath) } });
  return { config, path: modelPath, dir: dirname(modelPath), modelPath, warnings: [] };
}
