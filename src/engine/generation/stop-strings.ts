/**
 * Cuts streamed text at the first stop string, which is not part of the answer. Text that could be the start
 * of a stop string is held back until the next piece shows whether it is one.
 */
export class StopStrings {
  private held = "";

  constructor(private readonly stops: readonly string[]) {}

  /** Text safe to show now, and whether a stop string ended the answer. */
  push(piece: string): { text: string; stopped: boolean } {
    if (this.stops.length === 0) return { text: piece, stopped: false };
    const buffer = this.held + piece;
    let cut = -1;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.held = "";
      return { text: buffer.slice(0, cut), stopped: true };
    }
    let keep = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, buffer.length); n > keep; n--) {
        if (buffer.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** What was held back when the answer ends for another reason. */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }
}
