import type { ServedModel } from "../engine/served-model.js";
import { GpuxError, NotFoundError, UserError } from "../util/errors.js";
import type { ServingMetrics } from "./serving-metrics.js";

/** What every route module needs: the served models by name, the metrics, and whether we are stopping. */
export class ServerContext {
  readonly models: ReadonlyMap<string, ServedModel>;
  shuttingDown = false;

  constructor(
    models: readonly ServedModel[],
    readonly metrics: ServingMetrics,
    /** True when requests must carry the API key (the playground asks for it). */
    readonly authRequired: boolean,
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

  /** Time an inference call and record its outcome per model (success, or failure by status). */
  async measure<T>(model: ServedModel, run: () => Promise<T>): Promise<T> {
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
