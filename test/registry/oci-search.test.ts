import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { tempDir } from "../helpers/temp-dir.js";

// `gpux search` asks the Hub (its search API, on the fake hub) and OCI registries (catalog + tags) at once and
// says which registry cannot list.
const missing = registryMissing();
const hub = await startFakeHub({
  repos: [
    { ...onnxRepo("org/sum-small"), downloads: 10, likes: 1 },
    { ...onnxRepo("org/sum-popular"), downloads: 500, likes: 40, library: "transformers.js" },
    {
      id: "org/sum-checkpoint",
      files: { "model.safetensors": "x", "config.json": "{}" },
      pipelineTag: "fill-mask",
      downloads: 50,
    },
    { ...onnxRepo("org/other"), downloads: 9999 },
  ],
});
const home = tempDir();
const env = { GPUX_HOME: join(home, "gpux"), HF_ENDPOINT: hub.url, DOCKER_CONFIG: join(home, "docker") };
let open: RegistryServer;
let locked: RegistryServer;
before(async () => {
  if (missing) return;
  open = await startRegistry();
  locked = await startRegistry({ users: { alice: "pw" } });
});
after(async () => {
  await open?.close();
  await locked?.close();
  await hub.close();
});

interface Answer {
  models: Array<{
    source: string;
    reference: string;
    task: string | null;
    onnx: boolean | null;
    size_bytes: number | null;
    downloads: number | null;
  }>;
  notes: string[];
}

test("the Hub's search: by downloads, with task and ONNX filters", async () => {
  const search = await runCli(["search", "sum", "--json"], { env });
  assert.equal(search.code, 0, search.stderr);
  const answer = JSON.parse(search.stdout) as Answer;
  assert.deepEqual(
    answer.models.map((m) => m.reference),
    ["org/sum-popular", "org/sum-checkpoint", "org/sum-small"],
  );
  assert.equal(answer.models[1]?.onnx, false, "a checkpoint needs conversion");
  assert.equal(answer.models[0]?.onnx, true);
  const onnxOnly = JSON.parse(
    (await runCli(["search", "sum", "--onnx", "--limit", "1", "--json"], { env })).stdout,
  ) as Answer;
  assert.deepEqual(
    onnxOnly.models.map((m) => m.reference),
    ["org/sum-popular"],
  );
  const task = JSON.parse(
    (await runCli(["search", "sum", "--task", "fill-mask", "--json"], { env })).stdout,
  ) as Answer;
  assert.deepEqual(
    task.models.map((m) => m.reference),
    ["org/sum-checkpoint"],
  );
  const table = await runCli(["search", "sum"], { env });
  assert.match(table.stdout, /huggingface\s+org\/sum-checkpoint\s+fill-mask\s+needs conversion/);
});

test("the Hub and OCI registries in one table; a registry that cannot list says so", {
  skip: missing,
}, async () => {
  const folder = join(home, "sum-ids");
  for (const [path, content] of Object.entries(hubLayoutFiles())) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  assert.equal((await runCli(["push", folder, `${open.host}/models/sum-ids:v1`], { env })).code, 0);
  const search = await runCli(
    ["search", "sum", "--registry", "hf", "--registry", open.host, "--registry", locked.host, "--json"],
    { env },
  );
  assert.equal(search.code, 0, search.stderr);
  const answer = JSON.parse(search.stdout) as Answer;
  const oci = answer.models.find((m) => m.source === `oci://${open.host}`);
  assert.equal(oci?.reference, `${open.host}/models/sum-ids:v1`);
  assert.equal(oci?.onnx, true);
  assert.ok((oci?.size_bytes ?? 0) > 0);
  assert.ok(answer.models.some((m) => m.reference === "org/sum-popular"));
  assert.equal(answer.notes.length, 1);
  assert.match(answer.notes[0] as string, new RegExp(`${locked.host} cannot list its repositories`));
  const viaEnv = await runCli(["search", "sum"], {
    env: { ...env, GPUX_OCI_REGISTRIES: `${open.host},${locked.host}` },
  });
  assert.match(viaEnv.stdout, new RegExp(`oci://${open.host}\\s+${open.host}/models/sum-ids:v1`));
  assert.match(viaEnv.stderr, /note: .*cannot list/);
});
