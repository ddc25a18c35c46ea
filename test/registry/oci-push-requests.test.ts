import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, runProcess } from "../helpers/cli.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { startTokenProxy, type TokenProxy } from "../helpers/oci-token-proxy.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startTestProxy } from "../helpers/test-proxy.js";

// What a push sends, counted by the token proxy (bearer challenge, every request recorded) in front of a real
// registry, side by side with skopeo pushing the same artifact; and the OCI client through HTTP_PROXY.
const missing =
  registryMissing() ??
  (existsSync("/usr/bin/skopeo") ? undefined : "skopeo is not installed (apt-get install skopeo)");
const home = tempDir();
const folder = join(home, "sum-ids");
for (const [path, content] of Object.entries(hubLayoutFiles())) {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
}
const env = { GPUX_HOME: join(home, "gpux"), DOCKER_CONFIG: join(home, "docker") };
let source: RegistryServer;
let target: RegistryServer;
let proxy: TokenProxy;

before(async () => {
  if (missing) return;
  source = await startRegistry();
  target = await startRegistry();
  proxy = await startTokenProxy(target.url);
});
after(async () => {
  await proxy?.close();
  await target?.close();
  await source?.close();
});

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop() as string);
const resolveMessage = (stdout: string) =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .find((event) => event.phase === "resolve")?.message;

/** The requests `run` made through the token proxy (every one: pings, 401s, token requests). */
async function requestsOf(run: () => Promise<unknown> | unknown): Promise<string[]> {
  proxy.requests.length = 0;
  await run();
  return [...proxy.requests];
}

test("a push makes no more requests than skopeo's push of the same artifact; again, it only checks and tags", {
  skip: missing,
}, async (t) => {
  const artifact = `${source.host}/models/sum-ids:v1`;
  const pushed = await runCli(["push", folder, artifact, "--json"], { env });
  assert.equal(pushed.code, 0, pushed.stderr);
  const layout = join(home, "layout");
  execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${artifact}`, `oci:${layout}:v1`]);

  // a child process that runs while this one answers as the proxy (execFileSync would block the proxy)
  const skopeo = await requestsOf(async () => {
    const copy = await runProcess("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      `oci:${layout}:v1`,
      `docker://${proxy.host}/skopeo/sum-ids:v1`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
  });
  const gpux = await requestsOf(async () => {
    const push = await runCli(["push", folder, `${proxy.host}/gpux/sum-ids:v1`, "--json"], { env });
    assert.equal(push.code, 0, push.stderr);
  });
  t.diagnostic(`requests for one push: gpux ${gpux.length}, skopeo ${skopeo.length}`);
  const blobs = (lastJson(pushed.stdout).layers as unknown[]).length + 1; // the layers and the config
  const count = (requests: string[], pattern: RegExp) => requests.filter((r) => pattern.test(r)).length;
  assert.ok(
    gpux.length <= skopeo.length,
    `gpux sent ${gpux.length} requests, skopeo ${skopeo.length}:\n${gpux.join("\n")}\n--\n${skopeo.join("\n")}`,
  );
  assert.equal(count(gpux, /^PATCH /), 0, "each blob in one PUT");
  assert.equal(count(gpux, /^PUT \/v2\/gpux\/sum-ids\/blobs\/uploads\//), blobs);
  assert.equal(count(gpux, /^GET \/token/), 1, "one token for the scope, however many blobs ask at once");

  const again = await requestsOf(async () => {
    const push = await runCli(["push", folder, `${proxy.host}/gpux/sum-ids:v2`], { env });
    assert.equal(push.code, 0, push.stderr);
  });
  assert.deepEqual(
    [...new Set(again.map((r) => r.replace(/ \/v2\/.*\/(blobs|manifests)\/.*/, " $1")))].sort(),
    ["GET /token", "HEAD blobs", "PUT manifests"],
    again.join("\n"),
  );
});

test("through HTTP_PROXY, push and pull tunnel to the registry; a pull says which reference it resolves", {
  skip: missing,
}, async () => {
  const tunnel = await startTestProxy();
  after(() => tunnel.close());
  const proxied = { ...env, GPUX_HOME: join(home, "proxied"), HTTP_PROXY: tunnel.url, NO_PROXY: "" };
  const ref = `${source.host}/models/proxied:v1`;
  const push = await runCli(["push", folder, ref], { env: proxied });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(["pull", ref, "--json"], { env: proxied });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(tunnel.tunnels.includes(source.host), tunnel.tunnels.join(" "));
  assert.equal(resolveMessage(pull.stdout), `resolving ${ref}`, "Docker's host/repo:tag, not @tag");
});

test("a pull takes --revision for an untagged name; a push finds a pulled model by the name ls shows", {
  skip: missing,
}, async () => {
  const name = `${source.host}/models/named`;
  const push = await runCli(["push", folder, `${name}:v3`], { env });
  assert.equal(push.code, 0, push.stderr);
  const own = { ...env, GPUX_HOME: join(home, "named") };
  const pull = await runCli(["pull", name, "--revision", "v3", "--json"], { env: own });
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(resolveMessage(pull.stdout), `resolving ${name}:v3`);
  // a gpux.yml renamed by its user: the entry is still found by its reference, not by that name
  const yml = join(lastJson(pull.stdout).path, "gpux.yml");
  writeFileSync(yml, readFileSync(yml, "utf8").replace(/^name: .*$/m, "name: renamed"));
  const again = await runCli(["push", name, `${name}:copy`], { env: own });
  assert.equal(again.code, 0, again.stderr);
});
