import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BatchedAppender } from "../../src/net/batched-appender.js";
import { tempDir } from "../helpers/temp-dir.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("chunks of any size land in order; the caller may reuse each chunk at once", () => {
  const path = join(tempDir(), "out.bin");
  const fd = openSync(path, "a");
  const appender = new BatchedAppender(fd);
  const expected: Buffer[] = [];
  const reused = Buffer.alloc(3 << 20);
  for (const size of [1, 16_384, 300_000, 1 << 20, 3 << 20, 7, 2_000_000]) {
    const chunk = reused.subarray(0, size);
    for (let i = 0; i < size; i++) chunk[i] = (i * 31 + size) & 0xff;
    expected.push(Buffer.from(chunk));
    appender.add(chunk);
    reused.fill(0);
  }
  appender.close();
  closeSync(fd);
  assert.ok(readFileSync(path).equals(Buffer.concat(expected)));
});

test("a small chunk reaches the disk after a short silence, without close (a killed pull keeps it)", async () => {
  const path = join(tempDir(), "out.bin");
  const fd = openSync(path, "a");
  const appender = new BatchedAppender(fd);
  appender.add(Buffer.from("kept"));
  assert.equal(readFileSync(path, "utf8"), "");
  await sleep(60);
  assert.equal(readFileSync(path, "utf8"), "kept");
  appender.close();
  closeSync(fd);
});

test("a failed write is thrown, from add or close, never swallowed", async () => {
  const path = join(tempDir(), "out.bin");
  closeSync(openSync(path, "w"));
  const readOnly = openSync(path, "r");
  assert.throws(() => new BatchedAppender(readOnly).add(Buffer.alloc(1 << 20)), { code: "EBADF" });
  const later = new BatchedAppender(readOnly);
  later.add(Buffer.from("small"));
  await sleep(60);
  assert.throws(() => later.add(Buffer.from("more")), { code: "EBADF" });
  assert.throws(() => later.close(), { code: "EBADF" });
  closeSync(readOnly);
});
