/**
 * The DistilBERT-base-sized text classifier that bench/serve.ts and bench/batch.ts time: bench/make-text-classifier.py's
 * export (66 M parameters, random weights), made once per version of the script into bench-output/.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");

/** The folder holding the classifier's `model.onnx`, exported with torch and transformers if it is not there. */
export function ensureTextClassifier(): string {
  const script = join(root, "bench", "make-text-classifier.py");
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 12);
  const dir = join(root, "bench-output", `distilbert-${hash}`);
  if (!existsSync(join(dir, "model.onnx"))) {
    process.stderr.write("exporting the DistilBERT-sized classifier with transformers (once) …\n");
    const result = spawnSync(process.env.GPUX_PYTHON ?? "python3", [script, dir], { stdio: "inherit" });
    if (result.status !== 0) throw new Error("export failed; needs torch and transformers");
  }
  return dir;
}
