import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";

import { pullModel } from "../../src/app/pull-model.js";
import { removeModel } from "../../src/app/remove-model.js";
import { describeRegistries, parseModelRef, registerRegistry } from "../../src/registry/registries.js";
import { runCli } from "../helpers/cli.js";
import { folderRegistry, serveFolders } from "../helpers/folder-registry.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { tempDir } from "../helpers/temp-dir.js";

// A registry is one plug-in: this one (test/helpers/folder-registry.ts) is added here, in the test, and the
// real pull, lookup, run and rm --purge use it with no change to cli/, store/ or app/.
const root = tempDir();
const files = hubLayoutFiles();
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(join(root, "served", "sum-ids", path)), { recursive: true });
  writeFileSync(join(root, "served", "sum-ids", path), content);
}
const server = await serveFolders(join(root, "served"));
const cacheDir = join(root, "plain-cache");
const home = join(root, "gpux");
const unregister = registerRegistry(folderRegistry(server.url, cacheDir));
after(async () => {
  unregister();
  await server.close();
});

test("a registered registry gets its name and alias as prefixes and in the list of registries", () => {
  assert.equal(parseModelRef("plain:sum-ids").registry.name, "plain");
  assert.equal(parseModelRef("folder:sum-ids").registry.name, "plain");
  assert.equal(parseModelRef("sum-ids", { registry: "folder" }).ref.repoId, "sum-ids");
  assert.equal(parseModelRef("sum-ids").registry.name, "huggingface", "the default stays the Hub");
  assert.match(describeRegistries(), /^huggingface \(hf\), url, oci, plain \(folder\)$/);
  assert.throws(
    () => registerRegistry(folderRegistry(server.url, cacheDir)),
    /already registered as 'plain'/,
  );
});

test("pulled through the real pull use case, found in the store, run by the CLI, purged by its own rm", async () => {
  const pulled = await pullModel("plain:sum-ids", { home });
  assert.equal(pulled.cached, false);
  assert.equal(pulled.entry?.manifest.registry, "plain");
  assert.equal(pulled.entry?.manifest.source, server.url);
  assert.equal(pulled.entry?.manifest.task, "text-classification");
  assert.ok(pulled.downloadedBytes > 0);
  assert.ok(!server.requests.includes("GET /sum-ids/.gitattributes"));
  assert.equal((await pullModel("folder:sum-ids@main", { home })).cached, true, "the second pull reuses it");

  // The CLI does not know the `plain` registry; the stored entry runs by its name all the same.
  const env = { GPUX_HOME: home };
  const run = await runCli(["run", "sum-ids", "--text", "hi there"], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /"label": "HIGH"/);
  const ls = await runCli(["ls", "--json"], { env });
  assert.match(ls.stdout, /"registry":"plain"/);

  const snapshot = join(cacheDir, "sum-ids", pulled.remote.commit);
  assert.ok(existsSync(join(snapshot, "onnx", "model.onnx")));
  const removed = await removeModel("plain:sum-ids", { home, purge: true });
  assert.equal(removed.removed.length, 1);
  assert.ok(removed.freedBytes > 0);
  assert.ok(!existsSync(snapshot), "the registry's own purge emptied its cache");
});

test("once unregistered, its prefix is unknown again", () => {
  const again = registerRegistry({ name: "other", aliases: [], create: () => parseModelRef("x").registry });
  again();
  assert.throws(() => parseModelRef("other:org/x"), /Unknown registry 'other'/);
});
