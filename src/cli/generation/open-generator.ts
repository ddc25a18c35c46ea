import { resolveModelRef } from "../../app/resolve.js";
import type { TextGenerator } from "../../engine/generation/generator.js";
import { loadGenerator } from "../../engine/generation/load-generator.js";
import { Model } from "../../engine/model.js";
import { log } from "../../util/log.js";
import { type InferenceWatchdog, startInferenceWatchdog } from "../inference-watchdog.js";

export interface OpenedGenerator {
  generator: TextGenerator;
  model: Model;
  close(): Promise<void>;
}

/**
 * Resolve a model reference and open it for generation, with gpux.yml runtime.timeout (or `timeoutSeconds`)
 * enforced per forward pass, as `gpux run` does for single inferences.
 */
export async function openGenerator(
  ref: string | undefined,
  options: { config?: string; provider?: string; timeoutSeconds?: number },
): Promise<OpenedGenerator> {
  const loaded = await resolveModelRef(ref, { configPath: options.config });
  for (const warning of loaded.warnings) log.warn(warning);
  const timeout = options.timeoutSeconds ?? loaded.config.runtime.timeout;
  const watchdog: InferenceWatchdog | undefined =
    timeout > 0
      ? startInferenceWatchdog(
          timeout * 1000,
          `error: one generation step of model '${loaded.config.name}' ran longer than its ${timeout} s limit and was stopped.\n` +
            "hint: raise runtime.timeout in gpux.yml (or pass --timeout SECONDS, 0 for none).\n",
        )
      : undefined;
  try {
    const model = await Model.load(loaded, { provider: options.provider, origin: "cli" });
    try {
      const generator = loadGenerator(model, watchdog);
      return {
        generator,
        model,
        async close() {
          await model.dispose();
          await watchdog?.stop();
        },
      };
    } catch (error) {
      await model.dispose();
      throw error;
    }
  } catch (error) {
    await watchdog?.stop();
    throw error;
  }
}
