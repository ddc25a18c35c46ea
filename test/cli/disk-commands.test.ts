import assert from "node:assert/strict";
import {
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { type RegistryServer, registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [onnxRepo("org/A", { variants: ["fp16"], width: 256 }), onnxRepo("org/B"), onnxRepo("org/C")],
});
after(() => hub.close());

function env(home: string): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    DOCKER_CONFIG: join(home, "docker"),
    GPUX_HUB_BACKOFF_MS: "10",
  };
}

async function ok(home: string, args: string[]): Promise<string> {
  const result = await runCli(args, { env: env(home), cwd: home });
  assert.equal(result.code, 0, `gpux ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

interface Listed {
  name: string;
  path: string;
  status: string;
  commit: string;
}
const listed = async (home: string) =>
  (JSON.parse(await ok(home, ["ls", "--json"])) as { models: Listed[] }).models;

/** Every file an entry reaches, links followed, with its size (`outside`: only those outside its folder). */
function reachedFiles(dir: string, outside = false): Map<string, number> {
  const files = new Map<string, number>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const info = statSync(join(dir, name), { throwIfNoEntry: false });
    const path = info?.isFile() ? realpathSync(join(dir, name)) : undefined;
    if (info && path && !(outside && path.startsWith(`${realpathSync(dir)}/`))) files.set(path, info.size);
  }
  return files;
}

test("ls -q prints each pulled name once; df counts files shared between entries once", async () => {
  const home = tempDir();
  await ok(home, ["pull", "org/A"]);
  await ok(home, ["pull", "org/A", "--variant", "fp16"]);
  await ok(home, ["pull", "org/B"]);
  assert.deepEqual((await ok(home, ["ls", "-q"])).split("\n").sort(), ["", "org/A", "org/B"]);
  const both = await runCli(["ls", "-q", "--json"], { env: env(home) });
  assert.equal(both.code, 1);
  assert.equal(JSON.parse(both.stdout).error.hint, "Pass one of them.");

  const df = JSON.parse(await ok(home, ["df", "--json"])) as {
    models: Array<{ name: string; options: Record<string, string>; bytes: number; shared_bytes: number }>;
    total_bytes: number;
  };
  const models = await listed(home);
  const expected = new Map<string, number>();
  for (const m of models) for (const [path, size] of reachedFiles(m.path)) expected.set(path, size);
  const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
  assert.equal(df.total_bytes, sum(expected.values()));
  const a = df.models.filter((m) => m.name === "org/A");
  assert.equal(a.length, 2);
  // the fp16 entry shares the fp32 one's config.json and README.md: counted once in the total
  assert.ok(a[0] && a[0].shared_bytes > 0 && a.every((m) => m.shared_bytes === a[0]?.shared_bytes));
  assert.ok(df.total_bytes < sum(df.models.map((m) => m.bytes)));
  assert.equal(df.models.find((m) => m.name === "org/B")?.shared_bytes, 0);

  const table = await ok(home, ["df"]);
  assert.match(table, /^model\s+revision\s+commit\s+size\s+shared$/m);
  assert.match(table, /^org\/A\s+main variant=fp16\s+[0-9a-f]{12}\s+\S+ \S+\s+\S+ \S+$/m);
  assert.match(table, /^total \S+ \S+ for 3 model entries \(files shared between entries counted once\)$/m);
});

test("prune removes broken entries and cache blobs nothing links to, never a file an entry uses", async () => {
  const home = tempDir();
  await ok(home, ["pull", "org/A"]);
  await ok(home, ["pull", "org/A", "--variant", "fp16"]);
  await ok(home, ["pull", "org/B"]);
  await ok(home, ["pull", "org/C"]);
  // org/B breaks (a cache blob of its model deleted under it); org/A's cache holds a blob no snapshot links to
  const b = (await listed(home)).find((m) => m.name === "org/B") as Listed;
  rmSync(realpathSync(join(b.path, "onnx", "model.onnx")));
  assert.equal((await listed(home)).find((m) => m.name === "org/B")?.status, "broken");
  const orphan = join(home, "hf", "models--org--A", "blobs", "0".repeat(40));
  writeFileSync(orphan, new Uint8Array(3000));
  const partial = join(home, "hf", "models--org--A", "blobs", `${"1".repeat(40)}.incomplete`);
  writeFileSync(partial, new Uint8Array(10));
  const keep = new Map<string, number>();
  for (const m of (await listed(home)).filter((m) => m.name !== "org/B"))
    for (const [path, size] of reachedFiles(m.path)) keep.set(path, size);
  const bFiles = [...reachedFiles(b.path, true).keys()];

  const dry = await ok(home, ["prune", "--dry-run"]);
  assert.match(dry, /^would remove broken entry org\/B \([0-9a-f]{12}\)$/m);
  assert.match(dry, new RegExp(`^would remove ${orphan} \\(3\\.0 KB\\)$`, "m"));
  assert.match(dry, /^would free \S+ \S+$/m);
  assert.ok(existsSync(orphan) && existsSync(b.path), "a dry run removes nothing");
  assert.equal((await listed(home)).length, 4);

  const pruned = JSON.parse(await ok(home, ["prune", "--json"])) as {
    broken_entries: Array<{ name: string }>;
    cache_files: Array<{ path: string; bytes: number }>;
    freed_bytes: number;
  };
  assert.deepEqual(
    pruned.broken_entries.map((e) => e.name),
    ["org/B"],
  );
  assert.deepEqual(pruned.cache_files, [{ path: orphan, bytes: 3000 }]);
  assert.ok(pruned.freed_bytes >= 3000);
  assert.ok(!existsSync(orphan) && !existsSync(b.path));
  // the resumable download stays, and so do org/B's other cache files: its snapshot (maybe Python's) links them
  assert.ok(existsSync(partial), "partial");
  for (const path of bFiles) assert.ok(existsSync(path), path);
  for (const [path, size] of keep) assert.equal(statSync(path).size, size, path);
  assert.deepEqual((await listed(home)).map((m) => `${m.name} ${m.status}`).sort(), [
    "org/A ok",
    "org/A ok",
    "org/C ok",
  ]);
  const run = JSON.parse(await ok(home, ["run", "org/C", "--input", JSON.stringify({ x: [[0, 0, 0, 0]] })]));
  assert.deepEqual(run, { y: [[1, 2, 3, 4]] });
  assert.equal((await ok(home, ["prune"])).trim(), "nothing to prune");
});

const missing = registryMissing();
let registry: RegistryServer;
before(async () => {
  if (!missing) registry = await startRegistry();
});
after(() => registry?.close());

test("prune drops OCI blobs only a removed tag used, and keeps those the remaining tag shares", {
  skip: missing,
}, async () => {
  const home = tempDir();
  await ok(home, ["pull", "org/B"]);
  await ok(home, ["pull", "org/C"]);
  const v1 = `oci://${registry.host}/models/m:v1`;
  const v2 = `oci://${registry.host}/models/m:v2`;
  await ok(home, ["push", "org/B", v1]);
  await ok(home, ["push", "org/C", v2]);
  await ok(home, ["pull", v1]);
  await ok(home, ["pull", v2]);
  const blobs = join(home, "gpux", "blobs", "sha256");
  const oci = (await listed(home)).filter((m) => m.name.includes(registry.host));
  const v1Entry = oci.find((m) =>
    readFileSync(join(m.path, "manifest.json"), "utf8").includes(":v1"),
  ) as Listed;
  const v2Entry = oci.find((m) => m !== v1Entry) as Listed;
  const v2Files = reachedFiles(v2Entry.path);
  const v1Blobs = [...reachedFiles(v1Entry.path, true).keys()];
  const v1Only = v1Blobs.filter((path) => !v2Files.has(path));
  const shared = v1Blobs.filter((path) => v2Files.has(path));
  assert.ok(v1Only.length > 0 && shared.length > 0, "the two tags share some blobs, not all");

  await ok(home, ["rm", v1.slice("oci://".length)]);
  const pruned = JSON.parse(await ok(home, ["prune", "--json"])) as { cache_files: Array<{ path: string }> };
  const removed = pruned.cache_files.map((f) => join(realpathSync(blobs), f.path.slice(blobs.length)));
  for (const path of v1Only) assert.ok(removed.includes(path), `${path} only v1 used`);
  for (const path of v2Files.keys()) assert.ok(existsSync(path), `${path} is used by v2`);
  assert.ok(shared.every((path) => existsSync(path)));
  assert.deepEqual(
    (await listed(home)).map((m) => m.status),
    ["ok", "ok", "ok"],
  );
  const run = JSON.parse(
    await ok(home, ["run", v2.slice("oci://".length), "--input", JSON.stringify({ x: [[0, 0, 0, 0]] })]),
  );
  assert.deepEqual(run, { y: [[1, 2, 3, 4]] });
});
