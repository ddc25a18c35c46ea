import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { errorMessage, type GpuxError, RuntimeFailure, UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import type { ProgressSink } from "../util/progress.js";

/** The folder holding the gpux_bridge package (python/ at the package root, from src/ or dist/). */
export const bridgeDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "python");

/** The Python the bridge runs with: GPUX_PYTHON, else python3. */
export function pythonCommand(): string {
  return process.env.GPUX_PYTHON || "python3";
}

/** The exact command that installs packages into the Python gpux uses. */
export function pipCommand(packages: readonly string[]): string {
  return `${pythonCommand()} -m pip install ${packages.join(" ")}`;
}

/** An error line from the bridge: kind says whose fault it is. */
interface BridgeErrorEvent {
  type: "error";
  kind: string;
  message: string;
  hint?: string | null;
  packages?: string[];
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
  ) {
    super(message, { hint: `Install with: ${pipCommand(packages)}` });
  }
}

function toGpuxError(event: BridgeErrorEvent): GpuxError {
  const hint = event.hint ?? undefined;
  switch (event.kind) {
    case "missing_packages":
      return new MissingPythonPackageError(event.message, event.packages ?? []);
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
    hint: process.env.GPUX_PYTHON
      ? "Point GPUX_PYTHON at a Python 3 interpreter, or unset it to use python3."
      : `Install Python 3, then: ${pipCommand(["torch", "transformers", "onnx", "onnxruntime"])}`,
  });
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
  return new Promise((resolve, reject) => {
    const pythonPath = [bridgeDir, process.env.PYTHONPATH].filter(Boolean).join(":");
    const child = spawn(pythonCommand(), ["-m", "gpux_bridge", command], {
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let result: Record<string, unknown> | undefined;
    let failure: GpuxError | undefined;
    const stderrTail: string[] = [];
    child.on("error", (error) => reject(pythonMissing(error)));
    createInterface({ input: child.stderr }).on("line", (line) => {
      log.debug(`python: ${line}`);
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      let event: BridgeEvent;
      try {
        event = JSON.parse(line) as BridgeEvent;
      } catch {
        log.debug(`python (not a protocol line): ${line}`);
        return;
      }
      if (event.type === "progress") progress?.emit({ phase: event.phase, message: event.message });
      else if (event.type === "error") failure = toGpuxError(event as BridgeErrorEvent);
      else if (event.type === "result") result = event;
    });
    child.on("close", (code, signal) => {
      if (failure) return reject(failure);
      if (code === 0 && result) return resolve(result);
      const last = stderrTail.filter((l) => l.trim()).pop() ?? "no output";
      reject(
        new RuntimeFailure(
          `The Python bridge stopped (${signal ? `signal ${signal}` : `exit code ${code}`}) without a result: ${last}`,
          { hint: "Run with --verbose to see its output; `gpux doctor` checks the Python setup." },
        ),
      );
    });
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify(request));
  });
}
