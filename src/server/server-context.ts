import { requestSignal } from "../engine/request-scope.js";
import type { ServedModel } from "../engine/served-model.js";
import { DeadlineError } from "../engine/serving-errors.js";
import { GpuxError, NotFoundError, UserError } from "../util/errors.js";
import type { ServerLimits } from "./server-limits.js";
import type { ServingMetrics } from "./serving-metrics.js";

/** The 504 of a request that the model did not answer (generation: did not start) within timeout_ms. */
export function deadlineError(model: ServedModel): DeadlineError {
  return new DeadlineError(`Model '${model.name}' did not answer within ${model.options.timeoutMs} ms.`, {
    hint: "Send a smaller request, or raise --timeout-ms (serving.timeout_ms).",
  });
}

/**
 * The 504 of a generation that did not finish within generation_timeout_ms (counted from its arrival, so the
 * wait for a slot is included): the sequence is stopped at its next step, which frees its slot.
 */
export function generationDeadlineError(model: ServedModel): DeadlineError {
  const ms = model.options.generationTimeoutMs;
  return new DeadlineError(`Model '${model.name}' did not finish its answer within ${ms} ms.`, {
    hint: "Ask for fewer tokens (max_tokens), or raise --generation-timeout-ms (serving.generation_timeout_ms).",
  });
}

/** What every route module needs: the served models by name, the metrics, and whether we are stopping. */
export class ServerContext {
  readonly models: ReadonlyMap<string, ServedModel>;
  shuttingDown = false;
  /** Requests whose body has arrived and that are not answered yet: what a shutdown waits for. */
  openRequests = 0;
  /** When the last connection was accepted (performance.now()): a shutdown waits for arrivals to stop. */
  lastConnectionAt = 0;

  constructor(
    models: readonly ServedModel[],
    readonly metrics: ServingMetrics,
    /** True when requests must carry the API key (the playground asks for it). */
    readonly authRequired: boolean,
    readonly limits: ServerLimits,
  ) {
    this.models = new Map(models.map((m) => [m.name, m]));
  }

  get list(): ServedModel[] {
    return [...this.models.values()];
  }

  /** The named model; 404 naming the served ones when it is not here. Names never touch the file system. */
  find(name: string): ServedModel {
    const model = this.models.get(name);
    if (model) return model;
    throw new NotFoundError(`Model '${name}' is not served here.`, {
      hint: `Served models: ${[...this.models.keys()].join(", ")}.`,
    });
  }

  /**
   * The model for the gpux API: the one named, else the only one served. `naming` is how the route lets a
   * client name one, for the hint (`/info` takes only `?model=NAME`).
   */
  pick(name: string | undefined, naming = "/predict/{model} or ?model=NAME"): ServedModel {
    if (name !== undefined) return this.find(name);
    const [only, ...rest] = this.list;
    if (only && rest.length === 0) return only;
    throw new UserError("Several models are served; say which one.", {
      hint: `Use ${naming} with one of: ${[...this.models.keys()].join(", ")}.`,
    });
  }

  /**
   * Run one request (pre-processing, queue, inference, post-processing) within the model's timeout_ms, and
   * record its outcome per model (success, or failure by status).
   */
  async measure<T>(model: ServedModel, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    // aborted at the deadline, so work done for the request elsewhere (the tokenizer thread) stops too
    const abandoned = new AbortController();
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = deadlineError(model);
        abandoned.abort(error);
        reject(error);
      }, model.options.timeoutMs);
    });
    try {
      return await this.record(model, () =>
        Promise.race([requestSignal.run(abandoned.signal, run), deadline]),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Record a request's outcome per model, without a deadline (generation sets its own: the first token). */
  async record<T>(model: ServedModel, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const result = await run();
      this.metrics.recordRequest(model, 200, (performance.now() - start) / 1000);
      return result;
    } catch (error) {
      const status = error instanceof GpuxError ? error.httpStatus : 500;
      this.metrics.recordRequest(model, status, (performance.now() - start) / 1000);
      throw error;
    }
  }

  /** True when every model is loaded and warmed up and the server is not stopping. */
  get ready(): boolean {
    return !this.shuttingDown && this.list.every((m) => m.state === "ready");
  }
}
