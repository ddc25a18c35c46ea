import { mkdir, mkdtemp, rename, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { RuntimeFailure } from "../util/errors.js";
import { onExit } from "../util/process-exit.js";
import { defaults } from "../util/settings.js";
import { conversionKey, readCachedConversion, writeConversionRecord } from "./conversion-cache.js";
import type {
  ConversionReport,
  Converter,
  ConvertOptions,
  ConvertResult,
  Snapshot,
  ValidationFigures,
} from "./converter.js";
import { type DetectedTask, defaultOpset, detectTask, readTransformersConfig } from "./detect-task.js";
import { type BridgeFramework, runBridge } from "./python-bridge.js";

/** Default largest accepted difference between ONNX and the source framework. */
export const defaultAtol = defaults.convert.atol;

export interface BridgeConverterSpec {
  name: string;
  /** The bridge's framework switch. */
  framework: BridgeFramework;
  canConvert(snapshot: Snapshot): boolean;
  /** Whether a transformers config.json is required (a plain Keras model has none). */
  needsConfig(snapshot: Snapshot): boolean;
}

function describeDiffs(figures: ValidationFigures): string {
  return Object.entries(figures.maxAbsDiff)
    .map(([name, diff]) => `${name} ${diff === null ? "NaN" : diff.toExponential(2)}`)
    .join(", ");
}

/** Each check that failed: differences over atol, and (causal LMs) greedy tokens unlike generate()'s. */
function describeFailures(figures: ValidationFigures): string {
  const failures: string[] = [];
  if (Object.values(figures.maxAbsDiff).some((diff) => diff === null || diff > figures.atol)) {
    failures.push(
      `max abs diff ${describeDiffs(figures)} exceeds --atol ${figures.atol} (inputs ${figures.cases.join(", ")})`,
    );
  }
  const differing = figures.greedy?.runs.find((run) => run.onnx.join() !== run.torch.join());
  if (differing) {
    failures.push(
      `greedy tokens after a ${differing.promptLength}-token prompt are [${differing.onnx.join(", ")}], ` +
        `transformers' generate() gives [${differing.torch.join(", ")}]`,
    );
  }
  return failures.join("; ") || "the bridge reported a failed check";
}

/** The bridge writes snake_case (as every gpux JSON does); the report keeps its TypeScript names. */
function figuresFromBridge(raw: unknown): ValidationFigures | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  type BridgeRun = { prompt_length: number; torch: number[]; onnx: number[]; min_top2_gap: number };
  const { max_abs_diff, greedy, ...rest } = raw as Omit<ValidationFigures, "maxAbsDiff" | "greedy"> & {
    max_abs_diff: ValidationFigures["maxAbsDiff"];
    greedy?: { steps: number; identical: boolean; runs: BridgeRun[] };
  };
  const figures: ValidationFigures = { ...rest, maxAbsDiff: max_abs_diff };
  if (greedy) {
    figures.greedy = {
      ...greedy,
      runs: greedy.runs.map(({ prompt_length, min_top2_gap, ...run }) => ({
        ...run,
        promptLength: prompt_length,
        minTop2Gap: min_top2_gap,
      })),
    };
  }
  return figures;
}

function checkValidation(figures: ValidationFigures | undefined, what: string): ValidationFigures {
  if (!figures) throw new RuntimeFailure(`The bridge returned no validation figures for the ${what}.`);
  if (!figures.passed) {
    throw new RuntimeFailure(
      `The ${what} does not compute what the source model does: ${describeFailures(figures)}.`,
      { hint: "Nothing was kept. Try another --opset; raise --atol only if that difference is acceptable." },
    );
  }
  return figures;
}

/** Remove `dir` and its parents up to `top` (included) while they are empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    if (
      !(await rmdir(current).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (current === top || dirname(current) === current) return;
  }
}

async function moveInto(fromDir: string, toDir: string, names: readonly string[]): Promise<void> {
  for (const name of names) await rename(join(fromDir, name), join(toDir, name));
}

/** A converter that exports through the Python bridge and validates against the source framework. */
export function createBridgeConverter(spec: BridgeConverterSpec): Converter {
  return {
    name: spec.name,
    canConvert: spec.canConvert,
    async convert(snapshot: Snapshot, outDir: string, options: ConvertOptions): Promise<ConvertResult> {
      const started = Date.now();
      const config = spec.needsConfig(snapshot) ? await readTransformersConfig(snapshot) : {};
      // a plain Keras model has no head to detect: its graph is exported as it is, tensors in and out
      const detected: DetectedTask | { task: "raw"; head?: undefined; source: "graph" } =
        spec.needsConfig(snapshot) || options.task !== undefined
          ? detectTask(config, snapshot, options.task)
          : { task: "raw", source: "graph" };
      const settings = {
        task: detected.task,
        opset: options.opset ?? defaultOpset(config.model_type),
        atol: options.atol ?? defaultAtol,
        optimize: options.optimize ?? false,
      };
      const key = await conversionKey(snapshot, spec.name, settings);
      const cached = await readCachedConversion(outDir, key);
      if (cached) {
        options.progress?.emit({
          phase: "convert",
          message: "reusing the earlier conversion (same source and options)",
        });
        return cached;
      }
      // the first folder this conversion creates (`<source>/.gpux` for `gpux convert <folder>`), if any
      const made = await mkdir(outDir, { recursive: true });
      const work = await mkdtemp(join(outDir, ".converting-"));
      let kept = false;
      // a failed or interrupted conversion leaves no trace: its work folder goes, and the folders it made
      const cleanUp = async () => {
        await rm(work, { recursive: true, force: true });
        if (!kept && made) await removeEmptyFolders(outDir, made);
      };
      const unregister = onExit(cleanUp);
      try {
        options.progress?.emit({
          phase: "convert",
          message: `${spec.name}: ${settings.task} (from ${detected.source})`,
        });
        const result = await runBridge(
          "convert",
          {
            framework: spec.framework,
            model_dir: snapshot.dir,
            out_dir: work,
            task: settings.task,
            // the head comes from gpux's task table (src/tasks.ts): the bridge keeps no table of its own
            head: detected.head,
            opset: settings.opset,
            atol: settings.atol,
            optimize: settings.optimize,
          },
          options.progress,
        );
        const validation = checkValidation(figuresFromBridge(result.validation), "exported ONNX model");
        const optimized = typeof result.optimized === "string" ? result.optimized : undefined;
        const optimizedValidation = optimized
          ? checkValidation(figuresFromBridge(result.optimized_validation), "optimised ONNX model")
          : undefined;
        // every file the bridge wrote (models and their external weights); the TensorFlow path lists none
        const files = Array.isArray(result.files)
          ? (result.files as unknown[]).map(String)
          : [String(result.onnx), ...(optimized ? [optimized] : [])];
        await moveInto(work, outDir, files);
        const report: ConversionReport = {
          converter: spec.name,
          task: settings.task,
          taskSource: detected.source,
          opset: settings.opset,
          inputs: result.inputs as string[],
          outputs: result.outputs as string[],
          validation,
          ...(optimizedValidation ? { optimizedValidation } : {}),
          durationMs: Date.now() - started,
          tools: result.tools as Record<string, string>,
          files,
        };
        const converted = { onnxPath: join(outDir, optimized ?? String(result.onnx)), report };
        await writeConversionRecord(outDir, key, converted);
        kept = true;
        return converted;
      } finally {
        unregister();
        await cleanUp();
      }
    },
  };
}
