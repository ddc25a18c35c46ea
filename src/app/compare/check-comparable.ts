import type { LoadedConfig } from "../../config/load-config.js";
import { readOnnxIo } from "../../onnx/read-onnx-io.js";
import type { TensorSpec } from "../../onnx/tensor-spec.js";
import { UserError } from "../../util/errors.js";

const taskOf = (loaded: LoadedConfig) => loaded.config.task ?? "raw";

const signature = (specs: readonly TensorSpec[]) =>
  specs.map((spec) => `${spec.name}:${spec.dtype}`).join(", ") || "none";

/**
 * Models can be compared when they answer the same kind of request: the same task, or (models without a
 * task, answered as raw tensors) the same graph inputs and outputs, by name and dtype. Text-generation
 * models are compared with each other only (on their generated tokens), as the task check says.
 */
export async function checkComparable(models: ReadonlyArray<{ name: string; loaded: LoadedConfig }>) {
  const [first, ...others] = models;
  if (!first) return;
  const firstIo = taskOf(first.loaded) === "raw" ? await readOnnxIo(first.loaded.modelPath) : undefined;
  for (const other of others) {
    const [a, b] = [taskOf(first.loaded), taskOf(other.loaded)];
    if (a !== b) {
      throw new UserError(
        `'${first.name}' is a ${a} model and '${other.name}' is a ${b} model: compare needs models of one task.`,
        {
          hint: "Compare models of the same task (gpux inspect shows each model's task), or set the same `task:` in their gpux.yml.",
        },
      );
    }
    if (!firstIo) continue;
    const io = await readOnnxIo(other.loaded.modelPath);
    for (const side of ["inputs", "outputs"] as const) {
      if (signature(firstIo[side]) !== signature(io[side])) {
        throw new UserError(
          `'${first.name}' and '${other.name}' have different graph ${side} (${signature(firstIo[side])} vs ${signature(io[side])}): compare needs the same ${side}.`,
          {
            hint: "Compare models with the same graph inputs and outputs, or give both a `task:` in gpux.yml.",
          },
        );
      }
    }
  }
}
