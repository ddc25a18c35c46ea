import { readFile } from "node:fs/promises";
import { parseExternalDataLocations } from "../../onnx/read-external-data.js";
import { RuntimeFailure, UserError } from "../../util/errors.js";
import { isSafeRepoPath } from "../safe-repo-path.js";

/** An ONNX model's path in its folder joined with a path relative to that folder (`onnx/` + `w.bin`). */
export function besideModel(modelPath: string, relative: string): string {
  const folder = modelPath.includes("/") ? modelPath.slice(0, modelPath.lastIndexOf("/") + 1) : "";
  return `${folder}${relative}`;
}

/**
 * The external-data files the ONNX model at `file` names (paths relative to its folder). A file that is not
 * an ONNX model (an HTML page, a checkpoint, a cut file) is refused here, before anything is registered.
 */
export async function externalDataFiles(file: string, label: string): Promise<string[]> {
  let locations: string[];
  try {
    locations = parseExternalDataLocations(await readFile(file));
  } catch (error) {
    throw new UserError(`${label} is not an ONNX model (${(error as Error).message}).`, {
      hint: "Point at the .onnx file itself (not a web page about it); a PyTorch or TensorFlow checkpoint is pulled as a folder or from the Hub.",
      cause: error,
    });
  }
  for (const location of locations) {
    if (!isSafeRepoPath(location)) {
      throw new RuntimeFailure(
        `${label} keeps weights in ${JSON.stringify(location)}, outside its own folder; gpux refuses to fetch it.`,
        {
          hint: "Re-save the model with its external data beside it (onnx.save_model(..., location='x.data')).",
        },
      );
    }
  }
  return locations;
}

/**
 * `--include` for a single file: names of files beside it (there is no listing to match globs against),
 * each a relative path that stays in the model's folder.
 */
export function includedNames(include: readonly string[] | undefined): string[] {
  for (const name of include ?? []) {
    if (/[*?[\]{}]/.test(name) || !isSafeRepoPath(name)) {
      throw new UserError(`--include '${name}' does not name a file beside the model.`, {
        hint: "For a URL or a single .onnx, --include takes file names relative to the model (weights.bin, data/part1), not globs.",
      });
    }
  }
  return [...(include ?? [])];
}
