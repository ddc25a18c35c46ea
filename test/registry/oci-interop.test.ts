import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { cliPath, runCli } from "../helpers/cli.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { startTokenProxy, type TokenProxy } from "../helpers/oci-token-proxy.js";
import { tempDir } from "../helpers/temp-dir.js";

// gpux and skopeo read each other's artifacts; a corrupted blob in the registry's storage is refused; a pull
// killed mid-blob resumes with a Range request.
const missing =
  registryMissing() ??
  (existsSync("/usr/bin/skopeo") ? undefined : "skopeo is not installed (apt-get install skopeo)");
const home = tempDir();
const files = hubLayoutFiles();
const writeFolder = (dir: string, extra: Record<string, Uint8Array | string> = {}) => {
  for (const [path, content] of Object.entries({ ...files, ...extra })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
};
const folder = writeFolder(join(home, "sum-ids"));
const env = { GPUX_HOME: join(home, "gpux"), DOCKER_CONFIG: join(home, "docker") };
let registry: RegistryServer;
let proxy: TokenProxy;

before(async () => {
  if (missing) return;
  registry = await startRegistry();
  proxy = await startTokenProxy(registry.url);
});
after(async () => {
  await proxy?.close();
  await registry?.close();
});

const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const skopeoRaw = (ref: string) =>
  JSON.parse(
    execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], {
      encoding: "utf8",
    }),
  );
const answer = async (model: string) => {
  const run = await runCli(["run", model, "--text", "hi there", "--json"], { env, cwd: home });
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { result: unknown }).result;
};

/** An OCI image layout folder holding a ModelPack artifact of the sum-ids files, as another tool would write it. */
function modelPackLayout(dir: string): void {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (data: Uint8Array | string) => {
    const hex = sha(data);
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const layers = Object.entries(files).map(([path, content]) => ({
    mediaType: path.endsWith(".onnx")
      ? "application/vnd.cncf.model.weight.v1.raw"
      : "application/vnd.cncf.model.weight.config.v1.raw",
    ...put(content),
    annotations: { "org.cncf.model.filepath": path },
  }));
  const config = put(
    JSON.stringify({
      descriptor: { name: "sum-ids" },
      config: { format: "onnx" },
      modelfs: { type: "layers", diffIds: layers.map((l) => l.digest) },
    }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.cncf.model.manifest.v1+json",
    config: { mediaType: "application/vnd.cncf.model.config.v1+json", ...config },
    layers,
  });
  const m = put(manifest);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...m,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    }),
  );
}

test("an artifact skopeo copied from an OCI layout folder is pulled and run by gpux", {
  skip: missing,
}, async () => {
  const layout = join(home, "layout");
  modelPackLayout(layout);
  execFileSync("skopeo", [
    "copy",
    "--dest-tls-verify=false",
    `oci:${layout}:v1`,
    `docker://${registry.host}/skopeo/sum-ids:v1`,
  ]);
  const pull = await runCli(["pull", `${registry.host}/skopeo/sum-ids:v1`, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await answer(`${registry.host}/skopeo/sum-ids:v1`), { label: "HIGH", score: 1 });
});

test("--modelcar pushes one tar layer holding the files under /models; gpux pulls it back", {
  skip: missing,
}, async () => {
  const ref = `${registry.host}/modelcar/sum-ids:v1`;
  const push = await runCli(["push", folder, ref, "--modelcar", "--json"], { env });
  assert.equal(push.code, 0, push.stderr);
  const raw = skopeoRaw(ref) as { config: { mediaType: string }; layers: Array<{ mediaType: string }> };
  assert.equal(raw.config.mediaType, "application/vnd.oci.image.config.v1+json");
  assert.deepEqual(
    raw.layers.map((l) => l.mediaType),
    ["application/vnd.oci.image.layer.v1.tar"],
  );
  // skopeo sees it as an image (it reads the config's os and architecture)
  const inspect = JSON.parse(
    execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }),
  );
  assert.equal(inspect.Os, "linux");
  const pull = await runCli(["pull", ref, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const result = JSON.parse(pull.stdout.trim().split("\n").pop() as string) as {
    files: Array<{ path: string }>;
  };
  assert.ok(result.files.some((f) => f.path === "onnx/model.onnx"));
  assert.deepEqual(await answer(ref), { label: "HIGH", score: 1 });
});

test("a modelcar's tar layer is kept only while its pull is in the store: rm --purge frees it; push keeps none", {
  skip: missing,
}, async () => {
  // a home of its own, so that what other tests pushed and pulled is not counted
  const own = { ...env, GPUX_HOME: join(home, "gpux-modelcar") };
  const blobs = join(own.GPUX_HOME, "blobs", "sha256");
  const ref = `${registry.host}/modelcar/purge:v1`;
  assert.equal((await runCli(["push", folder, ref, "--modelcar"], { env: own })).code, 0);
  const layer = (skopeoRaw(ref) as { layers: Array<{ digest: string }> }).layers[0]?.digest.slice(
    7,
  ) as string;
  assert.ok(!existsSync(join(blobs, layer)), "the pushed tar is not left in the blob store");
  const pull = await runCli(["pull", ref], { env: own });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(existsSync(join(blobs, layer)), "the pulled tar is kept while the model is stored");
  const rm = await runCli(["rm", ref, "--purge"], { env: own });
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(
    readdirSync(blobs).filter((name) => !name.startsWith(".")),
    [],
    "the tar and every file unpacked from it are freed",
  );
});

test("a blob corrupted in the registry's storage is detected and nothing is registered", {
  skip: missing,
}, async () => {
  const ref = `${registry.host}/corrupt/sum-ids:v1`;
  assert.equal((await runCli(["push", folder, ref], { env })).code, 0);
  const hex = sha(files["onnx/model.onnx"] as Uint8Array);
  const stored = registry.blobFile(hex);
  writeFileSync(stored, randomBytes(statSync(stored).size));
  // a home of its own: the blob store here already holds that content from the tests above
  const fresh = { ...env, GPUX_HOME: join(home, "gpux-fresh"), GPUX_HUB_BACKOFF_MS: "0" };
  const pull = await runCli(["pull", ref], { env: fresh });
  assert.equal(pull.code, 3, pull.stderr);
  assert.match(pull.stderr, /corrupt after two downloads/);
  const ls = JSON.parse((await runCli(["ls", "--json"], { env: fresh })).stdout) as { models: unknown[] };
  assert.deepEqual(ls.models, [], "nothing registered");
  assert.ok(!existsSync(join(fresh.GPUX_HOME, "blobs", "sha256", hex)), "the bad bytes are not kept");
});

test("a pull killed mid-blob resumes with a Range request, without fetching again what it has", {
  skip: missing,
}, async () => {
  const big = randomBytes(3 << 20);
  const dir = writeFolder(join(home, "big"), { "onnx/model.onnx_data": big });
  const ref = `${proxy.host}/big/sum-ids:v1`;
  assert.equal((await runCli(["push", dir, ref], { env })).code, 0);
  const partial = join(env.GPUX_HOME, "blobs", "sha256", `${sha(big)}.incomplete`);
  proxy.throttle = 256 << 10;
  const child = spawn(process.execPath, [cliPath, "pull", ref], {
    env: { ...process.env, ...env },
    stdio: "ignore",
  });
  for (let i = 0; !(existsSync(partial) && statSync(partial).size > 512 << 10); i++) {
    assert.ok(i < 400, "the pull did not start the big blob");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const had = statSync(partial).size;
  assert.ok(had < big.length);
  proxy.throttle = 0;
  proxy.blobBytes = 0;
  proxy.requests.length = 0;
  const pull = await runCli(["pull", ref, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(
    proxy.requests.some((r) => r.endsWith(`range=bytes=${had}-`)),
    proxy.requests.join("\n"),
  );
  assert.ok(proxy.blobBytes <= big.length - had + (64 << 10), `fetched ${proxy.blobBytes} bytes again`);
  const stored = readdirSync(join(env.GPUX_HOME, "blobs", "sha256")).find((name) => name === sha(big));
  assert.ok(stored);
  assert.equal(sha(readFileSync(join(env.GPUX_HOME, "blobs", "sha256", sha(big)))), sha(big));
});
