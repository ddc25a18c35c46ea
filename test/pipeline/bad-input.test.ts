import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import type { Model } from "../../src/engine/model.js";
import { UserError } from "../../src/util/errors.js";
import { repoRoot } from "../helpers/cli.js";
import { loadModel } from "../helpers/load-model.js";
import { writeSumIdsModel } from "../helpers/sum-ids-model.js";
import { tempDir } from "../helpers/temp-dir.js";

let text: Model;
let image: Model;
before(async () => {
  text = await loadModel(writeSumIdsModel(tempDir()));
  image = await loadModel(join(repoRoot, "examples", "text-direction"));
});
after(async () => {
  await text.dispose();
  await image.dispose();
});

async function rejects(model: Model, request: unknown, message: RegExp): Promise<void> {
  await assert.rejects(model.predict(request), (error: unknown) => {
    assert.ok(error instanceof UserError, `a UserError, got ${String(error)}`);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, message);
    assert.ok(error.hint, "with a hint");
    return true;
  });
}

/** A PNG whose header claims a size; the pixel data is a few zero bytes. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(64))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const dataUrl = (bytes: Buffer, type = "image/png") => `data:${type};base64,${bytes.toString("base64")}`;

test("bad text requests are clear 4xx errors", async () => {
  await rejects(text, {}, /Missing 'text'/);
  await rejects(text, "just a string", /JSON object/);
  await rejects(text, { text: 42 }, /'text' must be a string, got number/);
  await rejects(text, { text: null }, /got null/);
  await rejects(text, { text: "" }, /'text' is empty/);
  await rejects(text, { text: "   " }, /'text' is empty/);
  await rejects(text, { text: [] }, /empty list/);
  await rejects(text, { text: ["ok", 3] }, /'text\[1\]' must be a string/);
  await rejects(text, { text: "a".repeat(1024 * 1024) }, /1048576 characters long/);
  await rejects(text, { text: "ok", txt: "typo" }, /Unknown field 'txt'/);
  await rejects(text, { text: ["a", "b"], text_pair: "c" }, /same length/);
  await rejects(text, { text: "ok", top_k: 0 }, /top_k/);
  await rejects(text, { text: Array.from({ length: 300 }, () => "x") }, /at most 256/);
});

test("bad images are clear 4xx errors and memory stays bounded", async () => {
  const before = process.memoryUsage().rss;
  await rejects(image, {}, /Missing 'image'/);
  await rejects(image, { image: 7 }, /must be a non-empty string/);
  await rejects(image, { image: "not base64 at all!" }, /neither base64 image data nor a data URL/);
  await rejects(
    image,
    { image: Buffer.from("hello, this is not an image").toString("base64") },
    /cannot decode|not an image/,
  );
  await rejects(image, { image: "https://example.com/cat.png" }, /URL/);
  await rejects(image, { image: "/etc/hostname" }, /file path/);
  const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: "white" } })
    .png()
    .toBuffer();
  await rejects(image, { image: dataUrl(tiny) }, /1×1 px/);
  await rejects(image, { image: dataUrl(pngClaiming(20000, 20000)) }, /20000×20000 px/);
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>',
  );
  await rejects(image, { image: dataUrl(svg, "image/svg+xml") }, /svg image/);
  await rejects(image, { image: dataUrl(Buffer.from("GIF89a broken")) }, /decode/);
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 200 * 1024 * 1024, `rss grew by ${Math.round(grown / 1024 / 1024)} MiB`);
});
