/**
 * gpux as a library: what a program needs to pull a model, resolve a reference, load it, run its pipeline,
 * compare models and serve it over HTTP — the same use cases the CLI runs. Documented in docs/reference/library.md.
 */

import { type ResolveOptions, resolveModelRef } from "./app/resolve.js";
import { resolveServeRefs } from "./app/resolve-repository.js";
import { type LoadModelOptions, Model } from "./engine/model.js";
import { type RunningServer, type ServeOptions, serveModels } from "./server/serve-models.js";

export type { Agreement } from "./app/compare/agreement.js";
export {
  type ComparedGenerator,
  type ComparedModel,
  type CompareOptions,
  type CompareReport,
  compareModels,
  type EncoderCompareReport,
  type GenerationCompareReport,
} from "./app/compare/compare-models.js";
export { type CompareRequest, readDataset as readCompareDataset } from "./app/compare/read-dataset.js";
export type { ModelSpec } from "./app/compare/resolve-variant.js";
export type { TokenAgreement } from "./app/compare/token-agreement.js";
export { type PullModelOptions, type PullModelResult, pullModel } from "./app/pull-model.js";
export { type RemoveModelOptions, type RemoveModelResult, removeModel } from "./app/remove-model.js";
export { type ResolveOptions, resolveModelRef } from "./app/resolve.js";
export { type LoadedConfig, loadConfig, parseConfigText } from "./config/load-config.js";
export type { GpuxConfig, InputConfig, OutputConfig } from "./config/schema.js";
export {
  type BenchmarkOptions,
  type BenchmarkResult,
  benchmarkModel,
  type DurationStats,
} from "./engine/benchmark.js";
export { type LoadModelOptions, Model, type RunGuard } from "./engine/model.js";
export type { RunningServer, ServeOptions } from "./server/serve-models.js";
export { serveModels } from "./server/serve-models.js";
export { ExitCode, GpuxError, NotFoundError, RuntimeFailure, UserError } from "./util/errors.js";
export type { ProgressEvent, ProgressSink } from "./util/progress.js";
export { defaults } from "./util/settings.js";
export { gpuxVersion } from "./util/version.js";

/**
 * Resolve a reference as `gpux run` does (an .onnx file, a folder, a gpux.yml, a pulled name) and open it on
 * the best execution provider. Call `dispose()` on the model when done.
 */
export async function loadModel(
  ref: string,
  options: LoadModelOptions & ResolveOptions = {},
): Promise<Model> {
  const { configPath, cwd, ...load } = options;
  return Model.load(await resolveModelRef(ref, { configPath, cwd }), load);
}

/**
 * Serve references as `gpux serve` does (a folder of model folders serves each one). Resolves once the server
 * listens; `ready` settles when every model has loaded; `close()` stops it gracefully.
 */
export async function serve(refs: readonly string[], options: ServeOptions = {}): Promise<RunningServer> {
  return serveModels(await resolveServeRefs(refs), options);
}
