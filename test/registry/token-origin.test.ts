import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { startSecondOrigin } from "../helpers/second-origin.js";
import { tempDir } from "../helpers/temp-dir.js";

// The CDN is another origin (another port) that forwards /__cdn/… back to the hub, which redirects LFS files to it.
let hubUrl = "";
const cdn = await startSecondOrigin({ target: () => hubUrl });
const secret = { ...onnxRepo("org/Secret", { pipelineTag: null }), private: true };
const open = onnxRepo("org/Open", { pipelineTag: null });
const hub = await startFakeHub({ repos: [secret, open], cdnOrigin: cdn.url, token: "hf_only_for_the_hub" });
hubUrl = hub.url;
// A "Hub" whose every answer is a redirect to the fake hub, another origin: its token must not follow.
const front = await startSecondOrigin({ target: () => hub.url, redirect: true });
after(() => Promise.all([hub.close(), cdn.close(), front.close()]));

const env = (home: string, endpoint: string): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: endpoint,
  HF_HUB_CACHE: join(home, "hub"),
  HF_TOKEN: hub.token,
  GPUX_HOME: join(home, "gpux"),
});

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

interface Pulled {
  path: string;
}

test("a private pull sends the token to the Hub, never to the CDN it redirects to, and verifies", async () => {
  const home = tempDir();
  hub.resetStats();
  cdn.requests.length = 0;
  const result = await runCli(["pull", "org/Secret", "--json"], { env: env(home, hub.url) });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stdout.includes(hub.token) && !result.stderr.includes(hub.token), "token printed");

  const lfsFiles = ["onnx/model.onnx", "onnx/model.onnx_data"];
  for (const file of lfsFiles) {
    const path = `/__cdn/org%2FSecret/${file}`;
    assert.ok(
      cdn.requests.some((r) => r.path === path),
      `${file} was not fetched from the CDN: ${JSON.stringify(cdn.requests)}`,
    );
    assert.ok(
      hub.stats.withAuthorization.some((r) => r.endsWith(`/resolve/${hub.commitOf("org/Secret")}/${file}`)),
      `the hub saw ${file}'s resolve request without the token`,
    );
  }
  assert.deepEqual(
    cdn.requests.filter((r) => r.authorization !== undefined),
    [],
    "the CDN received an Authorization header",
  );
  assert.ok(hub.stats.withAuthorization.some((r) => r.startsWith("GET /api/models/org/Secret")));

  const { path } = JSON.parse(result.stdout.trim().split("\n").pop() as string) as Pulled;
  const manifest = JSON.parse(readFileSync(join(path, "manifest.json"), "utf8")) as {
    files: Array<{ path: string; sha256: string }>;
  };
  for (const file of lfsFiles) {
    const expected = sha256(secret.files[file] as Uint8Array);
    assert.equal(manifest.files.find((f) => f.path === file)?.sha256, expected);
    assert.equal(sha256(readFileSync(join(path, file))), expected);
  }
});

test("API calls and downloads redirected to another origin go there without the token", async () => {
  const home = tempDir();
  hub.resetStats();
  front.requests.length = 0;
  const result = await runCli(["pull", "org/Open"], { env: env(home, front.url) });
  assert.equal(result.code, 0, result.stderr);

  const api = front.requests.filter((r) => r.path.startsWith("/api/models/"));
  const resolve = front.requests.filter((r) => r.path.includes("/resolve/"));
  assert.ok(api.length >= 2 && resolve.length >= 3, JSON.stringify(front.requests));
  for (const r of front.requests) assert.equal(r.authorization, `Bearer ${hub.token}`, r.path);

  assert.ok(hub.stats.requests.some((r) => r.startsWith("GET /api/models/org/Open")));
  assert.ok(hub.stats.requests.some((r) => r.includes("/resolve/")));
  assert.deepEqual(hub.stats.withAuthorization, [], "the token followed a redirect to another origin");
});
