import assert from "node:assert/strict";
import { appendFileSync, closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { OrderedWriter } from "../../src/app/batch/ordered-writer.js";
import { readLines } from "../../src/app/batch/read-lines.js";
import { lastRecordedLine } from "../../src/app/batch/resume-point.js";
import { tempDir } from "../helpers/temp-dir.js";

async function collect(path: string, chunkBytes?: number) {
  const lines = [];
  for await (const line of readLines(path, { chunkBytes })) lines.push(line);
  return lines;
}

test("readLines: lines longer than a chunk, CRLF, blank lines, UTF-8 split across chunks, no final newline", async () => {
  const dir = tempDir();
  const path = join(dir, "in.jsonl");
  const long = "x".repeat(50);
  const text = `a\r\n${long}\n\nné€😀 split\nlast`;
  writeFileSync(path, text);
  for (const chunkBytes of [1, 3, 7, 1024]) {
    const lines = await collect(path, chunkBytes);
    assert.deepEqual(
      lines.map((l) => l.text),
      ["a", long, "", "né€😀 split", "last"],
      `chunk ${chunkBytes}`,
    );
    assert.deepEqual(
      lines.map((l) => l.number),
      [1, 2, 3, 4, 5],
    );
    // each line's end is the byte offset just past its newline: the next line starts there
    const bytes = Buffer.from(text);
    assert.equal(lines.at(-1)?.end, bytes.length);
    assert.equal(bytes.subarray(lines[0]?.end, lines[1]?.end).toString(), `${long}\n`);
  }
});

test("readLines streams: a 128 MB file of 64 KB lines goes through in bounded memory", async () => {
  const dir = tempDir();
  const path = join(dir, "big.jsonl");
  const line = `${JSON.stringify({ text: "y".repeat(64 * 1024 - 14) })}\n`;
  const fd = openSync(path, "w");
  const block = Buffer.from(line.repeat(64));
  for (let i = 0; i < 32; i++) writeSync(fd, block);
  closeSync(fd);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let count = 0;
  for await (const l of readLines(path)) {
    count++;
    assert.equal(l.text.length, line.length - 1);
    if (count % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.equal(count, 64 * 32);
  // the file is 128 MiB; what the reader holds is one 1 MiB chunk and one line (plus garbage not yet collected)
  assert.ok(peak - before < 48 * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
});

test("lastRecordedLine: missing or empty file is 0; a half-written last line is cut off", async () => {
  const dir = tempDir();
  const path = join(dir, "out.jsonl");
  assert.equal(await lastRecordedLine(path), 0);
  writeFileSync(path, "");
  assert.equal(await lastRecordedLine(path), 0);

  const whole = `${JSON.stringify({ line: 1, result: "a" })}\n${JSON.stringify({ line: 3, result: "b".repeat(200_000) })}\n`;
  writeFileSync(path, whole);
  assert.equal(await lastRecordedLine(path), 3);
  appendFileSync(path, '{"line": 4, "result": "ha');
  assert.equal(await lastRecordedLine(path), 3);
  assert.equal(readFileSync(path, "utf8"), whole);

  writeFileSync(path, '{"line": 1, "res');
  assert.equal(await lastRecordedLine(path), 0);
  assert.equal(readFileSync(path, "utf8"), "");

  writeFileSync(path, "some other file\n");
  await assert.rejects(lastRecordedLine(path), /is not a gpux batch answer/);
});

test("OrderedWriter: outcomes that finish out of order are written in input order, each to its file", () => {
  const dir = tempDir();
  const out = join(dir, "out.jsonl");
  const errors = join(dir, "out.jsonl.errors");
  const writer = new OrderedWriter(out, errors, 5);
  writer.settle(7, 70, { answer: { line: 7 } });
  writer.settle(6, 60, { error: { line: 6 } });
  assert.equal(readFileSync(out, "utf8"), "", "nothing before line 5");
  assert.equal(writer.pending, 2);
  writer.settle(5, 50, { answer: { line: 5 } });
  writer.settle(8, 80, { blank: true });
  writer.settle(9, 90, { answer: { line: 9 } });
  writer.close();
  assert.equal(readFileSync(out, "utf8"), '{"line":5}\n{"line":7}\n{"line":9}\n');
  assert.equal(readFileSync(errors, "utf8"), '{"line":6}\n');
  assert.deepEqual(writer.written, { answers: 3, errors: 1, blank: 1 });
  assert.equal(writer.writtenEnd, 90);
});
