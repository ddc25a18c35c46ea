import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { after } from "node:test";
import { cliPath, repoRoot } from "./cli.js";

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** What it printed so far (its banner, once it is ready). */
  stdout: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
}

/** Start the built `gpux serve` as a user would, on a free port; resolves once it prints its URL. */
export function spawnServe(
  args: string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, "serve", "--port", "0", ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal)),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gpux serve did not start: ${stderr}`)), timeoutMs);
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
      const match = /playground\s+(http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] as string, stderr: () => stderr, stdout: () => stdout, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gpux serve exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

/** The worker processes of a server (its children), as `ps` lists them: none while it has none. */
export function childPids(pid: number): number[] {
  let listed: string;
  try {
    listed = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []; // ps found no such process
    throw error;
  }
  return listed
    .split("\n")
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
}
