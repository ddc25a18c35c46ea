import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { resolveServeRefs } from "../../src/app/resolve-repository.js";
import { serveModels } from "../../src/server/serve-models.js";
import { addOneSpec, call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

describe("answers the docs promise (http-api.md, serving.md)", async () => {
  const server = await startServer([writeModelFolder(dir, "add", addOneSpec)]);
  const body = JSON.stringify({ x: [[1, 2, 3, 4]] });

  for (const type of ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded"]) {
    test(`a ${type} body gets 415 with a hint, as documented`, async () => {
      const answer = await call(`${server.url}predict`, { raw: body, headers: { "content-type": type } });
      assert.equal(answer.status, 415);
      assert.match((answer.body as { hint: string }).hint, /Content-Type: application\/json/);
    });
  }

  test("the same body as application/json is answered", async () => {
    const answer = await call(`${server.url}predict`, { raw: body });
    assert.equal(answer.status, 200);
  });
});

test("a model repository's version folders are served as that version, not 1.0.0; /info's hint fits /info", async () => {
  const repo = join(dir, "repo");
  mkdirSync(join(repo, "versioned"), { recursive: true });
  writeModelFolder(join(repo, "versioned"), "1", addOneSpec);
  writeModelFolder(join(repo, "versioned"), "7", addOneSpec);
  writeModelFolder(repo, "plain", addOneSpec);
  const server = await serveModels(await resolveServeRefs([repo]), { port: 0 });
  after(() => server.close());
  await server.ready;
  // two models (versioned, and the repo's own add): /info's hint names its own way to choose
  const info = await call(`${server.url}info`);
  assert.equal(info.status, 400);
  assert.match((info.body as { hint: string }).hint, /^Use \/info\?model=NAME with one of: /);
  const metadata = await call(`${server.url}v2/models/versioned`);
  assert.deepEqual((metadata.body as { versions: string[] }).versions, ["7"]);
  assert.equal((await call(`${server.url}v2/models/versioned/versions/7/ready`)).status, 200);
});
