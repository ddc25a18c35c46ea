import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BatchObserver } from "../engine/dynamic-batcher.js";
import type { ServedModel } from "../engine/served-model.js";

/** Failure reasons on gpux_inference_request_failure_total, by HTTP status. */
export function failureReason(status: number): string {
  if (status === 429) return "rejected";
  if (status === 503) return "unavailable";
  if (status === 504) return "timeout";
  if (status >= 500) return "internal";
  return "invalid";
}

/** Generation: the time between two tokens of one sequence (ms on a GPU, tens of ms for a large model on CPU). */
const tokenBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];

/** What one finished generated sequence reports. */
export interface SequenceRecord {
  promptTokens: number;
  generatedTokens: number;
  /** From its first new token to its last. */
  decodeSeconds: number;
}

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Prometheus metrics, named after Triton's nv_inference_* (docs/reference/metrics.md lists each). */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly success = new Counter({
    name: "gpux_inference_request_success_total",
    help: "Inference requests answered successfully, per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  private readonly failure = new Counter({
    name: "gpux_inference_request_failure_total",
    help: "Inference requests that failed, per model and reason (invalid, rejected, timeout, unavailable, internal)",
    labelNames: ["model", "version", "reason"],
    registers: [this.registry],
  });
  private readonly inferenceCount = new Counter({
    name: "gpux_inference_count_total",
    help: "Inferences performed (rows: a batch of 8 counts 8), per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  private readonly execCount = new Counter({
    name: "gpux_inference_exec_count_total",
    help: "Session runs (batches) executed, per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  private readonly requestDuration = new Histogram({
    name: "gpux_inference_request_duration_seconds",
    help: "Time from receiving an inference request to sending its answer",
    labelNames: ["model", "version"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly queueDuration = new Histogram({
    name: "gpux_inference_queue_duration_seconds",
    help: "Time a request waited in the model's queue for a worker",
    labelNames: ["model", "version"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly computeDuration = new Histogram({
    name: "gpux_inference_compute_infer_duration_seconds",
    help: "Time of one session.run in an inference worker (one batch)",
    labelNames: ["model", "version"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: "gpux_inference_batch_size",
    help: "Rows per executed batch",
    labelNames: ["model", "version"],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  private readonly workerRestarts = new Counter({
    name: "gpux_inference_worker_restarts_total",
    help: "Inference and generation workers that died (a native abort, killed) and were restarted, per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });

  private readonly timeToFirstToken = new Histogram({
    name: "gpux_generation_time_to_first_token_seconds",
    help: "Time from receiving a generation request to its first new token (waiting for a slot + prefill)",
    labelNames: ["model", "version"],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly timePerOutputToken = new Histogram({
    name: "gpux_generation_time_per_output_token_seconds",
    help: "Mean time between new tokens of one sequence (observed once per sequence of 2+ tokens)",
    labelNames: ["model", "version"],
    buckets: tokenBuckets,
    registers: [this.registry],
  });
  private readonly promptTokens = new Counter({
    name: "gpux_generation_prompt_tokens_total",
    help: "Prompt tokens read (prefilled) by generation requests, per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });
  private readonly generatedTokens = new Counter({
    name: "gpux_generation_tokens_total",
    help: "New tokens generated, per model",
    labelNames: ["model", "version"],
    registers: [this.registry],
  });

  constructor(models: () => readonly ServedModel[]) {
    collectDefaultMetrics({ register: this.registry, prefix: "gpux_" });
    const gauge = (name: string, help: string, read: (m: ServedModel) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model", "version"],
        registers: [this.registry],
        collect() {
          for (const m of models()) this.set({ model: m.name, version: m.version }, read(m));
        },
      });
    gauge(
      "gpux_inference_pending_request_count",
      "Requests waiting in the queue for a worker",
      (m) => m.load.queued,
    );
    gauge(
      "gpux_inference_in_flight_requests",
      "Requests admitted and not yet answered (queued + running)",
      (m) => m.load.inFlight,
    );
    const generationGauge = (name: string, help: string, read: (m: ServedModel) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model", "version"],
        registers: [this.registry],
        collect() {
          for (const m of models()) if (m.generates) this.set({ model: m.name, version: m.version }, read(m));
        },
      });
    generationGauge(
      "gpux_generation_running_sequences",
      "Sequences decoding now, per text-generation model",
      (m) => m.generation?.load.running ?? 0,
    );
    generationGauge(
      "gpux_generation_waiting_sequences",
      "Sequences waiting for a decoding slot, per text-generation model",
      (m) => m.generation?.load.waiting ?? 0,
    );
    gauge("gpux_model_ready", "1 when the model is loaded, warmed up and taking requests", (m) =>
      m.state === "ready" ? 1 : 0,
    );
  }

  /** The observer a model's batcher reports to. */
  observerFor(model: { name: string; version: string }): BatchObserver {
    const labels = { model: model.name, version: model.version };
    return {
      onBatch: ({ rows, computeMs }) => {
        this.execCount.inc(labels);
        this.inferenceCount.inc(labels, rows);
        this.batchSize.observe(labels, rows);
        this.computeDuration.observe(labels, computeMs / 1000);
      },
      onDequeue: (queueMs) => this.queueDuration.observe(labels, queueMs / 1000),
      onWorkerRestart: () => this.workerRestarts.inc(labels),
    };
  }

  /** A sequence's first new token, `seconds` after its request arrived. */
  recordFirstToken(model: { name: string; version: string }, seconds: number): void {
    this.timeToFirstToken.observe({ model: model.name, version: model.version }, seconds);
  }

  /** A finished (or abandoned) sequence: its tokens, and its mean time per new token. */
  recordSequence(model: { name: string; version: string }, sequence: SequenceRecord): void {
    const labels = { model: model.name, version: model.version };
    this.promptTokens.inc(labels, sequence.promptTokens);
    this.generatedTokens.inc(labels, sequence.generatedTokens);
    if (sequence.generatedTokens > 1) {
      this.timePerOutputToken.observe(labels, sequence.decodeSeconds / (sequence.generatedTokens - 1));
    }
  }

  /** Record one inference request's outcome (called by /predict and OIP infer). */
  recordRequest(model: { name: string; version: string }, status: number, seconds: number): void {
    const labels = { model: model.name, version: model.version };
    if (status < 400) {
      this.success.inc(labels);
      this.requestDuration.observe(labels, seconds);
    } else {
      this.failure.inc({ ...labels, reason: failureReason(status) });
    }
  }
}
