import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { resolveServeRefs } from "../../src/app/resolve-repository.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { tempDir } from "../helpers/temp-dir.js";

// Defect 7 of issue 11: a folder downloaded with git or huggingface_hub ran as a raw graph ("Unknown input 'text'").
const files = hubLayoutFiles();
const hub = await startFakeHub({ repos: [{ id: "org/SumIds", files }] });
after(() => hub.close());
const home = tempDir();
const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(home, "hub"), GPUX_HOME: join(home, "gpux") };

const folder = join(home, "downloads", "SumIds");
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
}

test("a Hub-layout folder without gpux.yml answers --text exactly as the pulled repo does", async () => {
  const pulled = await runCli(["pull", "org/SumIds"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  const fromStore = await runCli(["run", "org/SumIds", "--text", "hi there"], { env });
  assert.equal(fromStore.code, 0, fromStore.stderr);
  const fromFolder = await runCli(["run", folder, "--text", "hi there"], { env });
  assert.equal(fromFolder.code, 0, fromFolder.stderr);
  assert.equal(fromFolder.stdout, fromStore.stdout);
  assert.match(fromFolder.stdout, /"label": "HIGH"/);
  assert.ok(!existsSync(join(folder, "gpux.yml")), "nothing is written into the user's folder");
  assert.deepEqual(readdirSync(folder).sort(), [
    "README.md",
    "config.json",
    "onnx",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
});

test("inspect and serve's model repositories read such a folder the same way", async () => {
  const inspected = await runCli(["inspect", folder, "--json"], { env });
  assert.equal(inspected.code, 0, inspected.stderr);
  const described = JSON.parse(inspected.stdout);
  assert.equal(described.task, "text-classification");
  assert.deepEqual(described.outputs[0].labels, ["HIGH", "LOW"]);
  const [served] = await resolveServeRefs([dirname(folder)]);
  assert.equal(served?.config.name, "SumIds");
  assert.equal(served?.config.task, "text-classification");
  assert.equal(served?.config.preprocessing?.tokenizer, "tokenizer.json");
});
