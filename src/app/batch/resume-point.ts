import { open } from "node:fs/promises";
import { UserError } from "../../util/errors.js";

/** Bytes read per step while looking backwards for the last line. */
const stepBytes = 64 * 1024;

/**
 * The input line number recorded in the last whole line of a batch output or errors file (0 when the file is
 * missing or empty). A kill in the middle of a write can leave half a line at the end: it is cut off here,
 * so the file again holds whole lines only and that input line is answered again.
 */
export async function lastRecordedLine(path: string): Promise<number> {
  const file = await open(path, "r+").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!file) return 0;
  try {
    const { size } = await file.stat();
    // read backwards until the chunk holds the newline before the last whole line (or the file's start)
    let tail = Buffer.alloc(0);
    let position = size;
    let complete = -1;
    for (;;) {
      const start = Math.max(0, position - stepBytes);
      const chunk = Buffer.alloc(position - start);
      await file.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      position = start;
      if (complete < 0) {
        const last = tail.lastIndexOf(0x0a);
        if (last >= 0) complete = position + last + 1;
      }
      const wholeEnd = complete - position;
      // (a negative offset would count from the end)
      const before = complete >= 0 && wholeEnd >= 2 ? tail.lastIndexOf(0x0a, wholeEnd - 2) : -1;
      if (complete >= 0 && (position === 0 || before >= 0)) {
        if (complete < size) await file.truncate(complete);
        return recordedLine(tail.toString("utf8", before + 1, wholeEnd - 1), path);
      }
      if (position === 0) {
        // no whole line at all: only a half-written first line
        await file.truncate(0);
        return 0;
      }
    }
  } finally {
    await file.close();
  }
}

function recordedLine(text: string, path: string): number {
  let line: unknown;
  try {
    line = (JSON.parse(text) as { line?: unknown }).line;
  } catch {
    line = undefined;
  }
  if (typeof line !== "number" || !Number.isInteger(line) || line < 1) {
    throw new UserError(`'${path}' exists but its last line is not a gpux batch answer (no "line" number).`, {
      hint: "Give another --output (or --errors) file, or remove this one to start over.",
    });
  }
  return line;
}
