/**
 * bench/serve-generate.ts over HTTP: the built `gpux serve` as a child process, streamed /v1/completions read
 * as a client sees them (TTFT = request sent → first chunk with text), and /health probed every ~50 ms
 * meanwhile from a thread of the client process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { repoRoot } from "../test/helpers/cli.js";

/** One contender's run at one width: what bench/serve-generate.ts reports. */
export interface Trial {
  /** Per sequence: from the start to its first token. */
  ttftMs: number[];
  decodeTokensPerSecond: number;
  endToEndTokensPerSecond: number;
  /** Each sequence's new tokens (over HTTP: its text, checked against /predict's greedy answer). */
  tokens?: number[][];
  texts?: string[];
  /** Over HTTP: /health latencies while the trial ran. */
  healthMs?: number[];
}

/** One streamed completion as the client saw it (times from performance.now()). */
export interface StreamedAnswer {
  sentAt: number;
  firstAt: number;
  lastAt: number;
  completionTokens: number;
  text: string;
}

export interface GpuxServe {
  url: string;
  model: string;
  stop(): Promise<void>;
}

/** Start the built CLI's `gpux serve DIR` on a free port; resolves once /health answers 200. */
export async function startGpuxServe(dir: string, extraArgs: string[]): Promise<GpuxServe> {
  const cli = join(repoRoot, "dist", "cli", "main.js");
  if (!existsSync(cli)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  const child: ChildProcess = spawn(process.execPath, [cli, "serve", dir, "--port", "0", ...extraArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // a bench that fails midway must not leave the server running
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
      const match = /playground\s+(http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    void exited.then(() => reject(new Error("gpux serve exited before it was ready")));
  });
  for (;;) {
    const health = await fetch(`${url}health`);
    const body = (await health.json()) as { models?: string[] };
    if (health.status === 200) {
      return {
        url,
        model: body.models?.[0] as string,
        stop: async () => {
          process.off("exit", killOnExit);
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Greedy token ids and text of one prompt, from /predict (untimed: what the streams must equal). */
export async function predictGreedy(
  serve: GpuxServe,
  prompt: string,
  maxTokens: number,
): Promise<{ tokens: number[]; text: string }> {
  const answer = await fetch(`${serve.url}predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, max_tokens: maxTokens, temperature: 0 }),
  });
  if (answer.status !== 200) throw new Error(`/predict answered ${answer.status}: ${await answer.text()}`);
  return (await answer.json()) as { tokens: number[]; text: string };
}

/** Stream one greedy completion and time its chunks. */
export async function streamCompletion(
  serve: GpuxServe,
  prompt: string,
  maxTokens: number,
): Promise<StreamedAnswer> {
  const sentAt = performance.now();
  const response = await fetch(`${serve.url}v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: serve.model,
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (response.status !== 200) throw new Error(`completions answered ${response.status}`);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const answer: StreamedAnswer = { sentAt, firstAt: 0, lastAt: 0, completionTokens: 0, text: "" };
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const at = performance.now();
    buffered += decoder.decode(value, { stream: true });
    const events = buffered.split("\n\n");
    buffered = events.pop() as string;
    for (const event of events) {
      const data = event.slice("data: ".length);
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data) as {
        choices: Array<{ text: string }>;
        usage?: { completion_tokens: number } | null;
        error?: { message: string };
      };
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) answer.completionTokens = chunk.usage.completion_tokens;
      const text = chunk.choices[0]?.text ?? "";
      if (text === "") continue;
      if (answer.firstAt === 0) answer.firstAt = at;
      answer.lastAt = at;
      answer.text += text;
    }
  }
  return answer;
}

/**
 * GET /health every ~`everyMs` (one at a time) from a thread of its own, so that neither this process's
 * floor runs (a synchronous session.run blocks its event loop for the whole prefill) nor its stream parsing
 * delay a probe: what it measures is the server's answer. Polls only between start() and stop().
 */
export class HealthProbe {
  private readonly thread: Worker;

  constructor(serve: GpuxServe, everyMs = 50) {
    this.thread = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
      let polling = false;
      let latencies = [];
      const poll = async () => {
        while (polling) {
          const started = performance.now();
          const answer = await fetch(workerData.url);
          await answer.arrayBuffer();
          const ms = performance.now() - started;
          if (answer.status !== 200) throw new Error("/health answered " + answer.status);
          latencies.push(ms);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, workerData.everyMs - ms)));
        }
      };
      let loop = Promise.resolve();
      parentPort.on("message", async (message) => {
        if (message === "start") {
          latencies = [];
          polling = true;
          loop = poll();
        } else {
          polling = false;
          await loop;
          parentPort.postMessage(latencies);
        }
      });`,
      { eval: true, workerData: { url: `${serve.url}health`, everyMs } },
    );
  }

  start(): void {
    this.thread.postMessage("start");
  }

  /** Stop polling; the latencies in ms since start(). */
  stop(): Promise<number[]> {
    const answer = new Promise<number[]>((resolve) => this.thread.once("message", resolve));
    this.thread.postMessage("stop");
    return answer;
  }

  close(): Promise<number> {
    return this.thread.terminate();
  }
}

/** Concurrent streamed completions, one per prompt, with /health probed meanwhile. */
export async function httpTrial(
  serve: GpuxServe,
  probe: HealthProbe,
  prompts: string[],
  tokens: number,
): Promise<Trial> {
  probe.start();
  const answers = await Promise.all(prompts.map((prompt) => streamCompletion(serve, prompt, tokens)));
  const healthMs = await probe.stop();
  const start = Math.min(...answers.map((a) => a.sentAt));
  const decoded = answers.reduce((sum, a) => sum + a.completionTokens - 1, 0);
  const lastAt = Math.max(...answers.map((a) => a.lastAt));
  return {
    ttftMs: answers.map((a) => a.firstAt - a.sentAt),
    decodeTokensPerSecond: (decoded * 1000) / (lastAt - Math.max(...answers.map((a) => a.firstAt))),
    endToEndTokensPerSecond: ((decoded + prompts.length) * 1000) / (lastAt - start),
    // an answer cut short (an EOS the floor ignores) cannot equal the floor's
    texts: answers.map((a) => (a.completionTokens === tokens ? a.text : `(${a.completionTokens} tokens)`)),
    healthMs,
  };
}
