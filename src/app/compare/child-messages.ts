import type { ModelMeasurement } from "./measure-model.js";

/** An error as it leaves a model's process: what reportError shows, and the request it came from. */
export interface ChildError {
  message: string;
  hint?: string;
  exit_code: number;
  /** Index of the request whose answer failed; absent when the model itself failed. */
  request?: number;
}

/** What a model's process sends back, once. */
export type FromChild =
  | { kind: "result"; measurement: ModelMeasurement }
  | { kind: "error"; error: ChildError };
