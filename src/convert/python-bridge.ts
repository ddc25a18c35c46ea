import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { errorMessage, type GpuxError, RuntimeFailure, UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import { isExiting, onExit } from "../util/process-exit.js";
import type { ProgressSink } from "../util/progress.js";
import { envSettings } from "../util/settings.js";

/** The folder holding the gpux_bridge package (python/ at the package root, from src/ or dist/). */
export const bridgeDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "python");

/** The bridge's converters: transformers checkpoints, Keras files, TensorFlow's own formats. */
export type BridgeFramework = "pytorch" | "keras" | "tensorflow";

/** The Python the bridge runs with: GPUX_PYTHON, else python3. */
export function pythonCommand(): string {
  return envSettings.python();
}

/**
 * The exact command that installs packages into the Python gpux uses. A distribution's Python that refuses
 * system-wide installs (PEP 668, `externallyManaged`) gets a virtual environment in gpux's home instead, and
 * GPUX_PYTHON pointed at it.
 */
export function pipCommand(packages: readonly string[], externallyManaged = false): string {
  if (!externallyManaged) return `${pythonCommand()} -m pip install ${packages.join(" ")}`;
  const venv = join(envSettings.gpuxHome(), "venv");
  return (
    `${pythonCommand()} -m venv ${venv} && ${venv}/bin/python -m pip install ${packages.join(" ")} && ` +
    `export GPUX_PYTHON=${venv}/bin/python`
  );
}

/** An error line from the bridge: kind says whose fault it is. */
interface BridgeErrorEvent {
  type: "error";
  kind: string;
  message: string;
  hint?: string | null;
  packages?: string[];
  /** The interpreter refuses system-wide pip installs (PEP 668). */
  externally_managed?: boolean;
}

type BridgeEvent =
  | { type: "progress"; phase: string; message?: string }
  | BridgeErrorEvent
  | ({ type: "result" } & Record<string, unknown>);

/** A missing Python package: names it and the pip command that installs it. Exit 1. */
export class MissingPythonPackageError extends UserError {
  constructor(
    message: string,
    readonly packages: readonly string[],
    externallyManaged = false,
  ) {
    super(message, { hint: `Install with: ${pipCommand(packages, externallyManaged)}` });
  }
}

function toGpuxError(event: BridgeErrorEvent): GpuxError {
  const hint = event.hint ?? undefined;
  switch (event.kind) {
    case "missing_packages":
      return new MissingPythonPackageError(event.message, event.packages ?? [], event.externally_managed);
    case "bad_checkpoint":
    case "unsupported":
    case "bad_request":
      return new UserError(event.message, { hint });
    default:
      return new RuntimeFailure(event.message, {
        hint: hint ?? "Run with --verbose to see the Python traceback.",
      });
  }
}

function pythonMissing(error: unknown): UserError {
  const python = pythonCommand();
  return new UserError(`Python was not found: '${python}' could not be started (${errorMessage(error)}).`, {
    hint: envSettings.pythonChosen()
      ? "Point GPUX_PYTHON at a Python 3 interpreter, or unset it to use python3."
      : `Install Python 3, then: ${pipCommand(["torch", "transformers", "onnx", "onnxruntime"])}`,
  });
}

/** One `python -m gpux_bridge …` process: it may start (and import its libraries) before its request is known. */
class BridgeProcess {
  private readonly child: ChildProcess;
  private readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: unknown }>;
  private result: Record<string, unknown> | undefined;
  private failure: GpuxError | undefined;
  private progress: ProgressSink | undefined;
  private readonly stderrTail: string[] = [];
  private readonly unregisterExit: () => void;

  constructor(args: readonly string[]) {
    const pythonPath = [bridgeDir, process.env.PYTHONPATH].filter(Boolean).join(":");
    this.child = spawn(pythonCommand(), ["-m", "gpux_bridge", ...args], {
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.closed = new Promise((resolve) => {
      this.child.on("error", (error) => resolve({ code: null, signal: null, error }));
      this.child.on("close", (code, signal) => resolve({ code, signal }));
    });
    // gpux stopped by a signal stops its converter too, and waits for it: it writes into the temp folder
    // that the next clean-up removes
    this.unregisterExit = onExit(() => this.stop());
    void this.closed.then(() => this.unregisterExit());
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      log.debug(`python: ${line}`);
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let event: BridgeEvent;
      try {
        event = JSON.parse(line) as BridgeEvent;
      } catch {
        log.debug(`python (not a protocol line): ${line}`);
        return;
      }
      if (event.type === "progress") this.progress?.emit({ phase: event.phase, message: event.message });
      else if (event.type === "error") this.failure = toGpuxError(event as BridgeErrorEvent);
      else if (event.type === "result") this.result = event;
    });
    this.child.stdin?.on("error", () => {});
  }

  /** Send the request; the result line, or the bridge's error as a GpuxError. */
  async finish(request: Record<string, unknown>, progress?: ProgressSink): Promise<Record<string, unknown>> {
    this.progress = progress;
    this.child.stdin?.end(JSON.stringify(request));
    const { code, signal, error } = await this.closed;
    // stopped because gpux is exiting (a signal): the clean-ups report that, not a failed conversion
    if (isExiting()) return new Promise(() => {});
    if (error !== undefined) throw pythonMissing(error);
    if (this.failure) throw this.failure;
    if (code === 0 && this.result) return this.result;
    const last = this.stderrTail.filter((l) => l.trim()).pop() ?? "no output";
    throw new RuntimeFailure(
      `The Python bridge stopped (${signal ? `signal ${signal}` : `exit code ${code}`}) without a result: ${last}`,
      { hint: "Run with --verbose to see its output; `gpux doctor` checks the Python setup." },
    );
  }

  kill(): void {
    this.child.kill();
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.closed;
    clearTimeout(timer);
  }
}

let prestarted: { framework: string; bridge: BridgeProcess } | undefined;

/**
 * Start the converter for `framework` ahead of its request, so Python imports torch or TensorFlow (several
 * seconds) while the checkpoint is still downloading. The next `runBridge("convert", …)` for that framework
 * uses it; `discardPrestartedBridge` stops one that turned out not to be needed.
 */
export function prestartBridge(framework: BridgeFramework): void {
  if (prestarted?.framework === framework) return;
  discardPrestartedBridge();
  prestarted = { framework, bridge: new BridgeProcess(["convert", "--preload", framework]) };
}

export function discardPrestartedBridge(): void {
  prestarted?.bridge.kill();
  prestarted = undefined;
}

/**
 * Run one bridge command (`python -m gpux_bridge <command>`) with a JSON request on stdin. Progress lines go to
 * the sink, the result line is returned, an error line becomes a GpuxError. The bridge's stderr (library
 * warnings, tracebacks) is shown with --verbose only and is never parsed.
 */
export function runBridge(
  command: "doctor" | "convert",
  request: Record<string, unknown>,
  progress?: ProgressSink,
): Promise<Record<string, unknown>> {
  const ready = command === "convert" && prestarted?.framework === request.framework ? prestarted : undefined;
  if (ready) prestarted = undefined;
  return (ready?.bridge ?? new BridgeProcess([command])).finish(request, progress);
}
