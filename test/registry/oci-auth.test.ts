import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { startTokenProxy, type TokenProxy } from "../helpers/oci-token-proxy.js";
import { tempDir } from "../helpers/temp-dir.js";

// Auth against real registries: htpasswd Basic on docker-registry, and the bearer-token challenge of the
// project's token proxy in front of another one; credentials saved as `docker login` saves them.
const missing = registryMissing();
const home = tempDir();
const folder = join(home, "sum-ids");
for (const [path, content] of Object.entries(hubLayoutFiles())) {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
}
const env = { GPUX_HOME: join(home, "gpux"), DOCKER_CONFIG: join(home, "docker") };
const password = "s3cret-Pa55";
let basic: RegistryServer;
let open: RegistryServer;
let proxy: TokenProxy;

before(async () => {
  if (missing) return;
  basic = await startRegistry({ users: { alice: password } });
  open = await startRegistry();
  proxy = await startTokenProxy(open.url, { users: { bob: password } });
});
after(async () => {
  await proxy?.close();
  await basic?.close();
  await open?.close();
});

const config = () => JSON.parse(readFileSync(join(env.DOCKER_CONFIG, "config.json"), "utf8"));
const noSecret = (...texts: string[]) => {
  for (const text of texts) assert.ok(!text.includes(password), "the password is never printed");
};

test("Basic auth: refused without login, a wrong password is not saved, login then push and pull", {
  skip: missing,
}, async () => {
  const ref = `${basic.host}/models/sum-ids:v1`;
  const denied = await runCli(["push", folder, ref], { env });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /wants credentials/);
  assert.match(denied.stderr, new RegExp(`gpux login ${basic.host}`));

  const wrong = await runCli(["login", basic.host, "-u", "alice", "--password-stdin"], {
    env,
    input: "nope\n",
  });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.throws(() => config(), /ENOENT/, "nothing saved for refused credentials");

  const login = await runCli(["login", basic.host, "-u", "alice", "--password-stdin"], {
    env,
    input: `${password}\n`,
  });
  assert.equal(login.code, 0, login.stderr);
  noSecret(login.stdout, login.stderr);
  assert.equal(config().auths[basic.host].auth, Buffer.from(`alice:${password}`).toString("base64"));
  assert.equal(statSync(join(env.DOCKER_CONFIG, "config.json")).mode & 0o777, 0o600);

  const push = await runCli(["push", folder, ref], { env });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(["pull", ref, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  noSecret(push.stdout, push.stderr, pull.stdout, pull.stderr);

  const missingTag = await runCli(["pull", `${basic.host}/models/sum-ids:nope`], { env });
  assert.equal(missingTag.code, 2, missingTag.stderr);
  assert.match(missingTag.stderr, /has no the manifest models\/sum-ids:nope|HTTP 404/);

  assert.equal((await runCli(["logout", basic.host], { env })).code, 0);
  assert.equal(config().auths[basic.host], undefined);
});

test("bearer tokens: the challenge's realm gives a token for the scope, with the saved credentials", {
  skip: missing,
}, async () => {
  const ref = `oci://${proxy.host}/team/sum-ids:v1`;
  const anonymous = await runCli(["pull", ref], { env });
  assert.equal(anonymous.code, 1, anonymous.stderr);
  assert.match(anonymous.stderr, /gpux login/);

  const login = await runCli(["login", proxy.host, "-u", "bob", "--password-stdin"], {
    env,
    input: password,
  });
  assert.equal(login.code, 0, login.stderr);
  const push = await runCli(["push", folder, ref], { env });
  assert.equal(push.code, 0, push.stderr);
  assert.ok(proxy.scopes.includes("repository:team/sum-ids:pull,push"), proxy.scopes.join(" "));
  const pull = await runCli(["pull", ref, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(proxy.scopes.includes("repository:team/sum-ids:pull"));
  noSecret(login.stdout, push.stdout, push.stderr, pull.stdout, pull.stderr);

  // another config folder has no credentials: the token server refuses, and gpux says to log in
  const other = await runCli(["pull", ref], { env: { ...env, DOCKER_CONFIG: join(home, "empty") } });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /wants credentials[\s\S]*gpux login/);
});
