import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { tempDir } from "../helpers/temp-dir.js";

// The whole path against a real registry (Debian's docker-registry, CNCF Distribution): pull from the fake
// hub, push, remove, pull back from the registry, and the answers are the same; skopeo reads what was pushed.
const missing = registryMissing();
const hub = await startFakeHub({
  repos: [{ id: "org/sum-ids", files: hubLayoutFiles(), pipelineTag: "text-classification" }],
});
let registry: RegistryServer;
const home = tempDir();
const env = {
  GPUX_HOME: join(home, "gpux"),
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf"),
  DOCKER_CONFIG: join(home, "docker"),
};

before(async () => {
  if (!missing) registry = await startRegistry();
});
after(async () => {
  await registry?.close();
  await hub.close();
});

const answer = async (model: string) => {
  const run = await runCli(["run", model, "--text", "hi there", "--json"], { env, cwd: home });
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { result: unknown }).result;
};

test("pull from the hub, push as ModelPack, rm, pull from the registry: the same answers", {
  skip: missing,
}, async () => {
  assert.equal((await runCli(["pull", "org/sum-ids"], { env })).code, 0);
  const fromHub = await answer("org/sum-ids");

  const ref = `oci://${registry.host}/models/sum-ids:v1`;
  const push = await runCli(["push", "org/sum-ids", ref, "--json"], { env });
  assert.equal(push.code, 0, push.stderr);
  const pushed = JSON.parse(push.stdout) as {
    digest: string;
    layers: Array<{ path: string; outcome: string }>;
  };
  assert.deepEqual(pushed.layers.map((l) => l.path).sort(), [
    "README.md",
    "config.json",
    "gpux.yml",
    "onnx/model.onnx",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  assert.ok(pushed.layers.every((l) => l.outcome === "uploaded"));

  // pushing again finds every blob there (HEAD) and uploads nothing
  const again = JSON.parse(
    (await runCli(["push", "org/sum-ids", ref, "--json"], { env })).stdout,
  ) as typeof pushed;
  assert.ok(again.layers.every((l) => l.outcome === "exists"));
  assert.equal(again.digest, pushed.digest, "the same model gives the same manifest");

  // skopeo, another OCI client, reads the manifest with its layers and file-path annotations
  const raw = JSON.parse(
    execFileSync(
      "skopeo",
      ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/models/sum-ids:v1`],
      {
        encoding: "utf8",
      },
    ),
  ) as {
    artifactType: string;
    config: { mediaType: string };
    layers: Array<{ mediaType: string; annotations: Record<string, string> }>;
  };
  assert.equal(raw.artifactType, "application/vnd.cncf.model.manifest.v1+json");
  assert.equal(raw.config.mediaType, "application/vnd.cncf.model.config.v1+json");
  const model = raw.layers.find((l) => l.annotations["org.cncf.model.filepath"] === "onnx/model.onnx");
  assert.equal(model?.mediaType, "application/vnd.cncf.model.weight.v1.raw");

  assert.equal((await runCli(["rm", "org/sum-ids"], { env })).code, 0);
  const pull = await runCli(["pull", `${registry.host}/models/sum-ids:v1`, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const result = JSON.parse(pull.stdout.trim().split("\n").pop() as string) as {
    registry: string;
    task: string;
  };
  assert.equal(result.registry, "oci");
  assert.equal(result.task, "text-classification");
  assert.deepEqual(await answer(`${registry.host}/models/sum-ids:v1`), fromHub);

  // a second tag of the same manifest keeps one copy of each blob
  assert.equal(
    (
      await runCli(["push", `${registry.host}/models/sum-ids:v1`, `${registry.host}/models/sum-ids:v2`], {
        env,
      })
    ).code,
    0,
  );
  const blobsBefore = readdirSync(join(env.GPUX_HOME, "blobs", "sha256")).length;
  const second = await runCli(["pull", `oci://${registry.host}/models/sum-ids:v2`, "--json"], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(readdirSync(join(env.GPUX_HOME, "blobs", "sha256")).length, blobsBefore);

  const ls = JSON.parse((await runCli(["ls", "--json"], { env })).stdout) as {
    models: Array<{ name: string; registry: string; status: string }>;
  };
  assert.ok(
    ls.models.some(
      (m) => m.registry === "oci" && m.name === `${registry.host}/models/sum-ids` && m.status === "ok",
    ),
  );
  const rm = await runCli(["rm", `${registry.host}/models/sum-ids:v1`, "--purge"], { env });
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(existsSync(join(env.GPUX_HOME, "blobs", "sha256")));
});

test("GPUX_PULL_CONCURRENCY that is not a whole number ≥ 1 is refused by OCI pull and push before anything is sent", {
  skip: missing,
}, async () => {
  const own = tempDir();
  const ownEnv = { ...env, GPUX_HOME: join(own, "gpux"), DOCKER_CONFIG: join(own, "docker") };
  assert.equal((await runCli(["pull", "org/sum-ids"], { env: ownEnv })).code, 0);
  const ref = `oci://${registry.host}/models/concurrency-checked:v1`;
  for (const value of ["abc", "0"]) {
    const bad = { ...ownEnv, GPUX_PULL_CONCURRENCY: value };
    for (const args of [
      ["push", "org/sum-ids", ref],
      ["pull", ref],
    ]) {
      const refused = await runCli(args, { env: bad });
      assert.equal(refused.code, 1, `${args[0]} with ${value}: ${refused.stderr}`);
      assert.match(
        refused.stderr,
        new RegExp(`GPUX_PULL_CONCURRENCY must be a whole number ≥ 1, got '${value}'`),
      );
      assert.match(refused.stderr, /Unset GPUX_PULL_CONCURRENCY for the default \(4\)/);
    }
  }
  // nothing reached the registry: the tag does not exist
  const pulled = await runCli(["pull", ref], { env: ownEnv });
  assert.equal(pulled.code, 2, pulled.stderr);
});
