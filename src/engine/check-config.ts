import type { GpuxConfig } from "../config/schema.js";
import { formatShape, isDynamicDim, type TensorSpec } from "../onnx/tensor-spec.js";

export interface ConfigCheck {
  errors: string[];
  warnings: string[];
}

function compare(
  kind: "input" | "output",
  declared: GpuxConfig["inputs"],
  actual: TensorSpec[],
  check: ConfigCheck,
) {
  const byName = new Map(actual.map((spec) => [spec.name, spec]));
  for (const entry of declared ?? []) {
    const spec = byName.get(entry.name);
    if (!spec) {
      check.errors.push(
        `gpux.yml ${kind}s.${entry.name}: the model has no ${kind} '${entry.name}' (it has ${actual.map((s) => `'${s.name}'`).join(", ")}).`,
      );
      continue;
    }
    if (entry.type && entry.type !== spec.dtype) {
      check.errors.push(
        `gpux.yml ${kind}s.${entry.name}: type ${entry.type} but the model declares ${spec.dtype}.`,
      );
    }
    if (entry.shape && spec.shape) {
      const fits =
        entry.shape.length === spec.shape.length &&
        entry.shape.every((dim, i) => {
          const model = spec.shape?.[i] ?? null;
          return isDynamicDim(model) || isDynamicDim(dim) || dim === model;
        });
      if (!fits) {
        check.errors.push(
          `gpux.yml ${kind}s.${entry.name}: shape ${formatShape(entry.shape)} does not fit the model's ${formatShape(spec.shape)}.`,
        );
      }
    }
  }
}

/** Compare what gpux.yml declares about inputs and outputs with what the model really has. */
export function checkConfigAgainstModel(
  config: GpuxConfig,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
): ConfigCheck {
  const check: ConfigCheck = { errors: [], warnings: [] };
  compare("input", config.inputs, inputs, check);
  compare("output", config.outputs as GpuxConfig["inputs"], outputs, check);
  for (const output of config.outputs ?? []) {
    const spec = outputs.find((s) => s.name === output.name);
    const classes = spec?.shape?.[spec.shape.length - 1];
    if (output.labels && typeof classes === "number" && classes !== output.labels.length) {
      check.errors.push(
        `gpux.yml outputs.${output.name}: ${output.labels.length} labels but the model outputs ${classes} classes.`,
      );
    }
  }
  return check;
}
