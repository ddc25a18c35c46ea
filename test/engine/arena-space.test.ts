import assert from "node:assert/strict";
import { test } from "node:test";
import { ArenaCursor, ArenaLedger } from "../../src/engine/arena-space.js";

test("arena ledger: each batch gets the largest span no answer holds; released spans join the free room", () => {
  const ledger = new ArenaLedger(1000);
  assert.deepEqual(ledger.freeSpan(), { from: 0, to: 1000 });
  const releaseFirst = ledger.hold({ from: 0, to: 100 });
  const releaseSecond = ledger.hold({ from: 500, to: 600 });
  assert.deepEqual(
    ledger.freeSpan(),
    { from: 100, to: 500 },
    "400 bytes beat the 400 after, the first found",
  );
  const releaseThird = ledger.hold({ from: 100, to: 450 });
  assert.deepEqual(ledger.freeSpan(), { from: 600, to: 1000 });
  assert.equal(ledger.heldBytes, 550);
  releaseSecond();
  releaseSecond(); // twice: the same span is not released again, nor another one
  assert.equal(ledger.heldBytes, 450);
  assert.deepEqual(ledger.freeSpan(), { from: 450, to: 1000 });
  releaseFirst();
  releaseThird();
  assert.deepEqual(ledger.freeSpan(), { from: 0, to: 1000 });
  assert.equal(ledger.heldBytes, 0);
});

test("arena cursor: tensors one after the other on 64-byte boundaries, within its span only", () => {
  const arena = new ArrayBuffer(1024);
  const cursor = new ArenaCursor(arena, { from: 10, to: 300 });
  const a = cursor.allocate(Float32Array, 3);
  assert.ok(a instanceof Float32Array && a.byteOffset === 64 && a.length === 3);
  const b = cursor.allocate(BigInt64Array, 20);
  assert.ok(b instanceof BigInt64Array && b.byteOffset === 128 && b.buffer === arena);
  assert.equal(cursor.end, 128 + 160);
  assert.equal(cursor.allocate(Uint8Array, 64), undefined, "past the span's end: nothing");
  assert.ok(cursor.holds(a) && !cursor.holds(new Float32Array(3)));
});
