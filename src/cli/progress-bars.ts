import type { ProgressEvent } from "../util/progress.js";
import { formatBytes } from "./format-bytes.js";
import { formatDuration, TransferRate } from "./progress-rate.js";

/** Where the bars are drawn: a terminal's stream and its width. */
export interface BarTerminal {
  write(text: string): void;
  columns(): number;
}

interface FileRow {
  name: string;
  bytes: number;
  total: number;
}

/** Redraws at most this often (a terminal gets ten frames a second, not one per socket read). */
const frameMs = 100;
/** Phases of a step that has no bytes (the converter's load, export, validate …): shown below the bars. */
const permanentPhases = new Set(["resolve", "convert"]);

const cursorUp = (rows: number) => (rows > 0 ? `\x1b[${rows}A` : "");
const clearBelow = "\x1b[J";
/** The longest rate and ETA: "999.9 MB/s, ETA 59 min 59 s". */
const rateWidth = 27;

/** `width` characters: cut with an ellipsis, or padded. */
function fit(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  return width <= 1 ? text.slice(0, width) : `…${text.slice(-(width - 1))}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/**
 * Progress bars on a terminal: one row per file and a total with rate and ETA, then the current step of work
 * that has no bytes (resolving, the converter's load / export / validate) with its elapsed time. The whole
 * block is redrawn in one write, from the cursor up, so lines printed above it (`resolve:`, `convert:`) never
 * land inside it, and no row is drawn twice. Every row fits the terminal's width: names are shortened
 * first, the bar next, the rate and ETA last.
 */
export class ProgressBars {
  private readonly files = new Map<string, FileRow>();
  private readonly rate = new TransferRate();
  private total: { bytes: number; total: number } | undefined;
  private step: { text: string; since: number } | undefined;
  private drawnRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly terminal: BarTerminal) {}

  emit(event: ProgressEvent): void {
    if (this.stopped) return;
    if (event.phase === "download" && event.bytes !== undefined) {
      const total = event.total ?? 0;
      if (event.file) {
        this.files.set(event.file, { name: event.file, bytes: event.bytes, total });
        this.rate.update(event.file, event.bytes);
      } else {
        this.total = { bytes: event.bytes, total };
      }
      this.step = undefined;
      this.schedule();
      return;
    }
    if (event.phase === "done" || event.phase === "verify" || event.phase === "download") return;
    if (permanentPhases.has(event.phase)) {
      this.print(`${event.phase}: ${event.message ?? ""}`);
      this.step = undefined;
    } else {
      this.step = { text: `${event.phase}: ${event.message ?? ""}`, since: Date.now() };
    }
    this.schedule();
  }

  /** Draw the last frame and stop; the block stays on screen. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.step = undefined;
    this.draw();
    this.stopped = true;
  }

  /** A line above the bars, kept on screen. */
  private print(line: string): void {
    const width = Math.max(20, this.terminal.columns() - 1);
    this.terminal.write(`\r${cursorUp(this.drawnRows)}${clearBelow}${fit(line, width).trimEnd()}\n`);
    this.drawnRows = 0;
    this.draw();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
      // a step with no bytes keeps its clock moving, so a long export does not look stuck
      if (this.step && !this.stopped) this.schedule();
    }, frameMs);
    this.timer.unref();
  }

  private rows(): string[] {
    const width = Math.max(20, this.terminal.columns() - 1);
    const rows: FileRow[] = [...this.files.values()];
    const total = this.total ?? {
      bytes: rows.reduce((sum, r) => sum + r.bytes, 0),
      total: rows.reduce((sum, r) => sum + r.total, 0),
    };
    const lines: string[] = [];
    if (rows.length > 0) {
      const rate = this.rate.describe(total.total - total.bytes);
      const sizes = (r: { bytes: number; total: number }) =>
        `${formatBytes(r.bytes)} / ${formatBytes(r.total)}`;
      const sizeWidth = Math.max(...rows.map((r) => sizes(r).length), sizes(total).length);
      // name, bar, sizes and (on the total's row) rate and ETA, two spaces apart; room for the longest rate
      // is kept on every row, so the bars line up and do not jump as the ETA's text changes length
      const nameWidth = Math.min(36, Math.max(...rows.map((r) => r.name.length), "total".length));
      const rest = sizeWidth + 4 + 2 + rateWidth;
      const barWidth = Math.max(5, Math.min(30, width - nameWidth - rest));
      const nameFits = Math.max(8, Math.min(nameWidth, width - barWidth - rest));
      const line = (name: string, r: { bytes: number; total: number }, extra = "") => {
        const fraction = r.total > 0 ? r.bytes / r.total : 1;
        const text = `${fit(name, nameFits)}  ${bar(fraction, barWidth)}  ${sizes(r).padStart(sizeWidth)}`;
        return extra ? `${text}  ${extra}` : text;
      };
      for (const r of rows) lines.push(line(r.name, r));
      lines.push(line("total", total, rate));
    }
    if (this.step) {
      const seconds = formatDuration((Date.now() - this.step.since) / 1000);
      lines.push(fit(`${this.step.text} (${seconds})`, width).trimEnd());
    }
    return lines.map((l) => (l.length > width ? l.slice(0, width) : l));
  }

  private draw(): void {
    if (this.stopped) return;
    const rows = this.rows();
    const frame = rows.map((row) => `${row}\n`).join("");
    this.terminal.write(`\r${cursorUp(this.drawnRows)}${clearBelow}${frame}`);
    this.drawnRows = rows.length;
  }
}
