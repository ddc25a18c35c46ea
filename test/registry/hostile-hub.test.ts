import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { type FakeRepo, startFakeHub, type TreeEntry } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const root = tempDir();
const outside = join(root, "outside");

function tampered(id: string, listing: (entries: TreeEntry[]) => TreeEntry[]): FakeRepo {
  return { ...onnxRepo(id, { pipelineTag: null }), listing };
}
const rename = (entries: TreeEntry[], from: string, to: string) =>
  entries.map((e) => (e.path === from ? { ...e, path: to } : e));
const resize = (entries: TreeEntry[], path: string, delta: number) =>
  entries.map((e) =>
    e.path === path
      ? { ...e, size: e.size + delta, ...(e.lfs ? { lfs: { ...e.lfs, size: e.lfs.size + delta } } : {}) }
      : e,
  );

const hub = await startFakeHub({
  repos: [
    tampered("evil/DotDot", (e) => rename(e, "config.json", "../../../../outside/config.json")),
    tampered("evil/Absolute", (e) => rename(e, "config.json", join(outside, "config.json"))),
    tampered("evil/Nested", (e) => rename(e, "onnx/model.onnx", "onnx/../../../outside/model.onnx")),
    tampered("evil/BadOid", (e) =>
      e.map((x) => (x.path === "config.json" ? { ...x, oid: "../../../outside/x" } : x)),
    ),
    tampered("evil/Short", (e) => resize(e, "onnx/model.onnx_data", -4)),
    tampered("evil/Long", (e) => resize(e, "onnx/model.onnx_data", 1000)),
    tampered("evil/SmallFile", (e) => resize(e, "config.json", 5)),
    {
      ...onnxRepo("evil/Sha", { pipelineTag: null }),
      answer: (info) => ({ ...info, sha: "../../../outside" }),
    },
    { ...onnxRepo("evil/Id", { pipelineTag: null }), answer: (info) => ({ ...info, id: "../../outside" }) },
    onnxRepo("ok/Flaky", { pipelineTag: null }),
    onnxRepo("ok/Victim", { pipelineTag: null }),
    // answers the id of another repo it has (its own files under ok/Victim's name), then of one it lacks
    {
      ...onnxRepo("evil/Impostor", { width: 5, pipelineTag: null }),
      answer: (i) => ({ ...i, id: "ok/Victim" }),
    },
    { ...onnxRepo("evil/Elsewhere", { pipelineTag: null }), answer: (i) => ({ ...i, id: "ok/Absent" }) },
    { ...onnxRepo("ok/MixedCase", { pipelineTag: null }), answer: (i) => ({ ...i, id: "OK/mixedcase" }) },
  ],
});
after(() => hub.close());

const env = (home: string): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hub"),
  GPUX_HOME: join(home, "gpux"),
  GPUX_HUB_BACKOFF_MS: "5",
});

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => !d.isDirectory())
      .map((d) => relative(dir, join(d.parentPath, d.name)));
  } catch {
    return [];
  }
}

async function expectFailure(id: string, message: RegExp): Promise<void> {
  const home = join(root, id.replace("/", "-"));
  const result = await runCli(["pull", id], { env: env(home) });
  assert.notEqual(result.code, 0, `${id} should fail`);
  assert.match(result.stderr, message, id);
  assert.doesNotMatch(result.stderr, /unexpected failure|\n\s+at /, `${id}: no stack trace`);
  assert.deepEqual(filesUnder(outside), [], `${id} wrote outside the cache`);
  assert.deepEqual(filesUnder(join(home, "gpux", "models")), [], `${id} registered something`);
  for (const file of filesUnder(home))
    assert.ok(file.startsWith("hub/") || file.startsWith("gpux/locks"), file);
}

test("`../` and absolute file names are refused before anything is written", async () => {
  await expectFailure("evil/DotDot", /unsafe file name "\.\.\/\.\.\/\.\.\/\.\.\/outside\/config\.json"/);
  await expectFailure("evil/Absolute", /unsafe file name/);
  await expectFailure("evil/Nested", /unsafe file name/);
  await expectFailure("evil/BadOid", /gave no digest for 'config\.json'/);
  await expectFailure("evil/Sha", /no valid commit sha/);
  await expectFailure("evil/Id", /answered "\.\.\/\.\.\/outside" when asked for 'evil\/Id'/);
});

test("an answer naming another repo is refused, so it cannot poison that repo's cache (the id's case aside)", async () => {
  const home = join(root, "impostor");
  for (const [id, answered] of [
    ["evil/Impostor", "ok/Victim"],
    ["evil/Elsewhere", "ok/Absent"],
  ] as const) {
    const result = await runCli(["pull", id], { env: env(home) });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, new RegExp(`answered "${answered}" when asked for '${id}'`));
    assert.match(result.stderr, /HF_ENDPOINT is broken or hostile/);
  }
  assert.deepEqual(filesUnder(join(home, "hub")), [], "nothing cached under any name");
  assert.deepEqual(filesUnder(join(home, "gpux", "models")), []);
  const victim = await runCli(["pull", "ok/Victim", "--json"], { env: env(home) });
  assert.equal(victim.code, 0, victim.stderr);
  assert.equal(hub.commitOf("ok/Victim"), JSON.parse(victim.stdout.trim().split("\n").pop() ?? "").commit);
  const mixed = await runCli(["pull", "ok/MixedCase"], { env: env(home) });
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.match(mixed.stdout, /pulled OK\/mixedcase@main/);
});

test("sizes that lie end in a clear error and register nothing", async () => {
  await expectFailure("evil/Short", /sent more than the \d+ bytes it declared/);
  await expectFailure("evil/Long", /has only \d+ bytes of 'onnx\/model\.onnx_data'/);
  await expectFailure("evil/SmallFile", /'config\.json' of 'evil\/SmallFile'/);
});

test("HTML pages and persistent 500s end in clear errors; a few 500s are retried", async () => {
  hub.faults.htmlApi = true;
  await expectFailure("ok/Flaky", /answered text\/html where JSON was expected/);
  hub.faults.htmlApi = false;
  hub.faults.fail = { status: 502, times: 100, html: true };
  await expectFailure("ok/Flaky", /answered HTTP 502/);
  hub.faults.fail = { status: 500, times: 100, pathIncludes: "/resolve/" };
  await expectFailure("ok/Flaky", /answered HTTP 500 for '[^']+' of 'ok\/Flaky'/);
  hub.faults.fail = { status: 500, times: 2 };
  const home = join(root, "flaky-ok");
  const ok = await runCli(["pull", "ok/Flaky"], { env: env(home) });
  hub.faults.fail = undefined;
  assert.equal(ok.code, 0, ok.stderr);
});

test("a server that is not there: retried, then a clear message", async () => {
  const home = join(root, "down");
  const result = await runCli(["pull", "org/Name"], {
    env: { ...env(home), HF_ENDPOINT: "http://127.0.0.1:9" },
  });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /Cannot reach the Hub at http:\/\/127\.0\.0\.1:9/);
  assert.match(result.stderr, /--offline/);
});
