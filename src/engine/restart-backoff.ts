/**
 * How long to wait before restarting a worker that died. A worker that dies this soon after the previous
 * restart waits longer before the next one: 0, 1, 2, 4 … 30 s, so one that crashes as soon as it is up (a
 * broken driver, a request retried at once that aborts ONNX Runtime each time) is not reloaded in a hot loop.
 * One that had served this long starts the count afresh. Shared by inference and generation workers.
 */
const stableAfterMs = 60_000;
const maxRestartDelayMs = 30_000;

export class RestartBackoff {
  private crashesInARow = 0;

  /** The wait before restarting a worker that had been ready for `upMs` when it died. */
  delayAfter(upMs: number): number {
    if (upMs >= stableAfterMs) this.crashesInARow = 0;
    const crashes = this.crashesInARow++;
    return crashes === 0 ? 0 : Math.min(maxRestartDelayMs, 1000 * 2 ** (crashes - 1));
  }
}
