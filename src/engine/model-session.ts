import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type * as ort from "onnxruntime-node";
import type { LoadedConfig } from "../config/load-config.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import { createSession, type SessionHandle } from "../runtime/create-session.js";
import { log } from "../util/log.js";
import { classifyRunError } from "./classify-run-error.js";

export interface OpenModelSessionOptions {
  /** Overrides gpux.yml runtime.provider / runtime.gpu.backend. */
  provider?: string;
  /** Intra-op threads when gpux.yml runtime.threads says nothing (the server's share of the cores). */
  defaultThreads?: number;
  /** Profile file name prefix under `<model>/.gpux/` (one per worker). Default "profile". */
  profileName?: string;
  /** Save ONNX Runtime's optimised graph here. */
  optimizedModelPath?: string;
}

function profileDir(loaded: LoadedConfig): string {
  return join(loaded.dir, ".gpux");
}

/**
 * The one place a model's session is set up from gpux.yml, for `gpux run` and for every server worker alike:
 * provider chain, threads, GPU memory limit and profiling.
 */
export async function openModelSession(
  loaded: LoadedConfig,
  options: OpenModelSessionOptions = {},
): Promise<SessionHandle> {
  const { runtime } = loaded.config;
  if (runtime.enable_profiling) await mkdir(profileDir(loaded), { recursive: true });
  return createSession(loaded.modelPath, {
    provider: options.provider ?? runtime.provider ?? runtime.gpu?.backend ?? "auto",
    profileFilePrefix: runtime.enable_profiling
      ? join(profileDir(loaded), options.profileName ?? "profile")
      : undefined,
    gpuMemoryLimit: runtime.gpu?.memory,
    intraOpNumThreads: runtime.threads ?? options.defaultThreads,
    optimizedModelPath: options.optimizedModelPath,
  });
}

/**
 * One session run; a failure is classified (bad input: UserError; anything else: RuntimeFailure). `fetches`
 * names the outputs wanted, or gives every output a tensor to write into (pre-allocated outputs).
 */
export async function runModelSession(
  session: ort.InferenceSession,
  model: string,
  feeds: TensorMap,
  fetches?: readonly string[] | TensorMap,
): Promise<TensorMap> {
  try {
    return (await (fetches
      ? session.run(feeds, fetches as string[] | ort.InferenceSession.FetchesType)
      : session.run(feeds))) as TensorMap;
  } catch (error) {
    throw classifyRunError(model, error);
  }
}

/** Release the session; with runtime.enable_profiling, ONNX Runtime writes its profile now and gpux names it. */
export async function closeModelSession(
  session: ort.InferenceSession,
  loaded: LoadedConfig,
  profileName = "profile",
): Promise<void> {
  if (loaded.config.runtime.enable_profiling) {
    session.endProfiling();
    const newest = (await readdir(profileDir(loaded)))
      .filter((name) => name.startsWith(`${profileName}_`) && name.endsWith(".json"))
      .sort()
      .pop();
    if (newest) log.info(`ONNX Runtime profile written to ${join(profileDir(loaded), newest)}`);
  }
  await session.release();
}
