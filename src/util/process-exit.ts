/**
 * What the CLI does when it is stopped from outside: Ctrl-C (SIGINT), `kill` / `docker stop` (SIGTERM), a
 * closed terminal (SIGHUP), or a reader that went away (`gpux ls | head -1`: EPIPE on stdout). Code that
 * leaves something behind while it works (a temp folder, a lock, a child process) registers a clean-up here;
 * on a signal every registered clean-up runs once, newest first, then the process exits 128 + the signal's
 * number (130 for SIGINT, 143 for SIGTERM), as shells and Docker expect. A second signal exits at once.
 *
 * Installing handlers also matters as pid 1 (a container's exec-form entrypoint): the kernel delivers no
 * default action to pid 1, so without a handler `docker stop` waits its grace period and kills.
 */

type Cleanup = () => void | Promise<void>;

const cleanups = new Set<Cleanup>();
const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type HandledSignal = keyof typeof signalNumbers;

let exitingWith: number | undefined;
let interruptMessage = "interrupted";
let takeover: ((signal: HandledSignal) => void) | undefined;

/** Run `cleanup` if the process is stopped before the returned function is called (which unregisters it). */
export function onExit(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Run `work`, with `cleanup` registered until it settles (the caller still cleans up on its own errors). */
export async function withExitCleanup<T>(cleanup: Cleanup, work: () => Promise<T>): Promise<T> {
  const unregister = onExit(cleanup);
  try {
    return await work();
  } finally {
    unregister();
  }
}

/** True once the process is stopping: work still running has nothing more to report. */
export function isExiting(): boolean {
  return exitingWith !== undefined;
}

/** The line printed on stderr when a signal stops this command (`pull` says how to resume). */
export function setInterruptMessage(message: string): void {
  interruptMessage = message;
}

/**
 * Let a command answer SIGINT / SIGTERM itself (`serve` drains its requests first). A second signal still
 * exits at once, after the clean-ups.
 */
export function takeOverSignals(handler: (signal: HandledSignal) => void): void {
  takeover = handler;
}

/** Run every clean-up once (newest first), print `message` if given, then exit with `code`. */
export async function exitAfterCleanups(code: number, message?: string): Promise<never> {
  exitingWith ??= code;
  const pending = [...cleanups].reverse();
  cleanups.clear();
  for (const cleanup of pending) {
    try {
      await cleanup();
    } catch {
      // a clean-up that fails must not stop the others; the process is leaving anyway
    }
  }
  // after the clean-ups: progress bars are gone, so this is the last line on the screen
  // (on a terminal, after the echoed ^C)
  if (message) process.stderr.write(`${process.stderr.isTTY ? "\n" : ""}${message}\n`);
  process.exit(exitingWith);
}

function onSignal(signal: HandledSignal): void {
  const code = 128 + signalNumbers[signal];
  if (exitingWith !== undefined) {
    process.exit(exitingWith);
  }
  if (takeover) {
    const handler = takeover;
    takeover = undefined;
    handler(signal);
    return;
  }
  void exitAfterCleanups(code, `${interruptMessage} (${signal})`);
}

/** The reader of stdout went away: nobody wants the rest, so stop quietly (no trace, exit 0), as `ls | head` does. */
function onOutputError(error: NodeJS.ErrnoException): void {
  if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
    void exitAfterCleanups(exitingWith ?? 0);
    return;
  }
  throw error;
}

let installed = false;

/** Install the handlers (the CLI does, once, before running a command; the library API never does). */
export function handleProcessExit(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(signalNumbers) as HandledSignal[]) {
    process.on(signal, () => onSignal(signal));
  }
  process.stdout.on("error", onOutputError);
  // stderr closed too (`gpux pull 2>&1 | head`): nothing can be reported any more
  process.stderr.on("error", onOutputError);
}
