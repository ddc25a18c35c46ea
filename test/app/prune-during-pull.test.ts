import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pruneStore } from "../../src/app/prune-store.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({ repos: [onnxRepo("org/C")] });
after(() => hub.close());
const missing = registryMissing();
let registry: RegistryServer;
before(async () => {
  if (!missing) registry = await startRegistry();
});
after(() => registry?.close());

/**
 * A model Python downloaded into the Hugging Face cache: `blobs` files, each linked from a snapshot. Prune keeps
 * them (a snapshot links them) but looks at every one, which makes it run for seconds.
 */
function pythonDownload(cache: string, blobs: number): void {
  const repo = join(cache, "models--py--big");
  const snapshot = join(repo, "snapshots", "f".repeat(40));
  mkdirSync(join(repo, "blobs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  for (let i = 0; i < blobs; i++) {
    const blob = i.toString(16).padStart(40, "0");
    writeFileSync(join(repo, "blobs", blob), "");
    symlinkSync(join("..", "..", "blobs", blob), join(snapshot, `part-${i}.bin`));
  }
}

test("a pull started while prune runs over a large store keeps every blob it needs", {
  skip: missing,
}, async () => {
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    DOCKER_CONFIG: join(home, "docker"),
  };
  const ok = async (args: string[]) => {
    const result = await runCli(args, { env, cwd: home });
    assert.equal(result.code, 0, `gpux ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  const ref = `${registry.host}/models/c:v1`;
  await ok(["pull", "org/C"]);
  await ok(["push", "org/C", `oci://${ref}`]);
  pythonDownload(env.HF_HUB_CACHE, 10_000);

  // prune is past its check for running pulls long before the child process has started
  const pruning = pruneStore({ home: env.GPUX_HOME, cacheDir: env.HF_HUB_CACHE });
  const pull = await ok(["pull", `oci://${ref}`]);
  await pruning;
  // the premise: the pull met the running prune (and waited for it)
  assert.match(pull.stderr, /waiting for `gpux prune` \(pid \d+\) to finish/);
  const models = JSON.parse((await ok(["ls", "--json"])).stdout).models as Array<{
    name: string;
    status: string;
  }>;
  assert.deepEqual(models.map((m) => m.status).sort(), ["ok", "ok"]);
  const run = await ok(["run", ref, "--input", JSON.stringify({ x: [[0, 0, 0, 0]] })]);
  assert.deepEqual(JSON.parse(run.stdout), { y: [[1, 2, 3, 4]] });
});
