import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";

/** What became of one input line: an answer (output file), an error (errors file), or nothing (blank). */
export type LineOutcome = { answer: object } | { error: object } | { blank: true };

interface Target {
  path: string;
  fd?: number;
}

/**
 * Writes the outcomes of a batch in input order, whatever order they finish in. Every line written is whole
 * and appended in the order of the input, the answers and errors in two files; together the two always hold a
 * prefix of the input, so a re-run can start after the larger of their last line numbers. Each run of lines
 * for one file is one write call: if a kill cuts one short, only its last line is half, and resume-point.ts
 * removes it.
 */
export class OrderedWriter {
  private readonly waiting = new Map<number, LineOutcome>();
  private readonly output: Target;
  private readonly errors: Target;
  /** Lines settled and written. */
  written = { answers: 0, errors: 0, blank: 0 };
  /** Byte offset in the input just past the last line written (for progress). */
  writtenEnd = 0;
  private readonly ends = new Map<number, number>();
  private closed = false;

  constructor(
    outputPath: string,
    errorsPath: string,
    /** The first line number that will be settled. */
    private next: number,
  ) {
    this.output = { path: outputPath };
    this.errors = { path: errorsPath };
    // the output exists from the start, even when every line fails: a script can count on it
    this.fd(this.output);
  }

  /** Lines settled but waiting for an earlier one. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Record line `number`'s outcome (`end`: its byte offset in the input) and write what is now in order. */
  settle(number: number, end: number, outcome: LineOutcome): void {
    // a batch that stopped (its writes failed) may still hear from requests that were running
    if (this.closed) return;
    this.waiting.set(number, outcome);
    this.ends.set(number, end);
    let run: string[] = [];
    let runTarget: Target | undefined;
    const flush = () => {
      if (runTarget && run.length > 0) this.write(runTarget, run.join(""));
      run = [];
    };
    for (let outcome = this.waiting.get(this.next); outcome; outcome = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.writtenEnd = this.ends.get(this.next) ?? this.writtenEnd;
      this.ends.delete(this.next);
      this.next++;
      if ("blank" in outcome) {
        this.written.blank++;
        continue;
      }
      const target = "answer" in outcome ? this.output : this.errors;
      if (target !== runTarget) flush();
      runTarget = target;
      run.push(`${JSON.stringify("answer" in outcome ? outcome.answer : outcome.error)}\n`);
      if ("answer" in outcome) this.written.answers++;
      else this.written.errors++;
    }
    flush();
  }

  /** Flush both files to disk and close them. */
  close(): void {
    this.closed = true;
    for (const target of [this.output, this.errors]) {
      if (target.fd === undefined) continue;
      fsyncSync(target.fd);
      closeSync(target.fd);
      target.fd = undefined;
    }
  }

  private fd(target: Target): number {
    target.fd ??= openSync(target.path, "a");
    return target.fd;
  }

  private write(target: Target, text: string): void {
    const fd = this.fd(target);
    const bytes = Buffer.from(text, "utf8");
    // a regular file takes it whole unless the disk is full or a signal kills us mid-way
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
  }
}
