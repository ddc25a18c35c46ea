import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, runCli } from "../helpers/cli.js";
import { tinyOnnxModel } from "../helpers/fake-hub-repos.js";
import { serveFiles } from "../helpers/file-server.js";
import { tempDir } from "../helpers/temp-dir.js";

// `gpux pull https://host/path/model.onnx` against a plain web server on 127.0.0.1: the model y = x + w, with w
// inline (256 KiB, for the cut) or in a file the graph names (`weights.bin`, found from the graph alone).
const inline = tinyOnnxModel({ width: 64 * 1024 }).model;
const external = tinyOnnxModel({ externalData: "weights.bin" });
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const server = await serveFiles({
  "/models/add-64k.onnx": inline,
  "/ext/add-ext.onnx": external.model,
  "/ext/weights.bin": external.data as Uint8Array,
  "/ext/labels.txt": "one\ntwo\n",
  "/page/index.onnx": "<!doctype html><html><body>Download page</body></html>",
});
after(() => server.close());

const freshEnv = () => {
  const home = tempDir();
  return { home, env: { GPUX_HOME: join(home, "gpux"), GPUX_HUB_BACKOFF_MS: "10", HF_ENDPOINT: server.url } };
};
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop() as string);
const listed = async (env: NodeJS.ProcessEnv) =>
  JSON.parse((await runCli(["ls", "--json"], { env })).stdout).models as Array<Record<string, unknown>>;

test("a URL pull stores the .onnx under its file name, writes gpux.yml from the graph, runs, and rm --purge frees it", async () => {
  const { home, env } = freshEnv();
  const pull = await runCli(["pull", `${server.url}/ext/add-ext.onnx`, "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const result = lastJson(pull.stdout);
  assert.equal(result.registry, "url");
  assert.equal(result.name, "add-ext");
  assert.match(
    pull.stdout,
    new RegExp(`"resolving ${server.url}/ext/add-ext\\.onnx"`),
    "the URL, not name@main",
  );
  assert.deepEqual(
    result.files.map((f: { path: string }) => f.path),
    ["add-ext.onnx", "weights.bin"],
    "the external data the graph names is fetched from beside the model",
  );
  const yml = readFileSync(join(result.path, "gpux.yml"), "utf8");
  assert.match(yml, /add-ext\.onnx/);
  const run = await runCli(["run", "add-ext", "--input", '{"x": [[1, 1, 1, 1]]}', "--json"], {
    env,
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\[2,\s*3,\s*4,\s*5\]/);
  const models = await listed(env);
  assert.equal(models.length, 1);

  const again = await runCli(["pull", `${server.url}/ext/add-ext.onnx`, "--json"], { env });
  assert.equal(lastJson(again.stdout).cached, true, "an unchanged URL is not fetched again");

  const cache = join(home, "gpux", "url");
  assert.ok(existsSync(join(cache, "add-ext")));
  const rm = await runCli(["rm", "add-ext", "--purge"], { env });
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(await listed(env), []);
  assert.deepEqual(readdirSync(cache), [], "the downloaded files are gone with the entry");
});

test("--sha256: the right digest registers; a wrong one is refused, and nothing is registered or kept", async () => {
  const { home, env } = freshEnv();
  const url = `${server.url}/models/add-64k.onnx`;
  const wrong = await runCli(["pull", url, "--sha256", "0".repeat(64)], { env });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, new RegExp(`has sha256 ${sha256(inline)}, not the 0{64} given with --sha256`));
  assert.deepEqual(await listed(env), []);
  const cached = readdirSync(join(home, "gpux", "url"), { recursive: true, withFileTypes: true });
  assert.deepEqual(
    cached.filter((e) => e.isFile()).map((e) => e.name),
    [],
    "the file that failed the check is deleted",
  );

  const right = await runCli(
    ["pull", url, "--sha256", sha256(inline).toUpperCase(), "--name", "me/adder", "--json"],
    {
      env,
    },
  );
  assert.equal(right.code, 0, right.stderr);
  assert.equal(lastJson(right.stdout).name, "me/adder");
  // 64 Ki inputs are too long for a command line: the request goes in a file
  writeFileSync(join(home, "zeros.json"), JSON.stringify({ x: [new Array(65536).fill(0)] }));
  const run = await runCli(["run", "me/adder", "--input", "@zeros.json", "--json"], { env, cwd: home });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\[1,\s*2,\s*3,/);

  const bad = await runCli(["pull", url, "--sha256", "abc"], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--sha256 'abc' is not a sha256 digest/);
});

test("a download cut mid-file resumes with a Range request and fetches only the rest", async () => {
  const { env } = freshEnv();
  const path = "/models/add-64k.onnx";
  server.requests.length = 0;
  server.bytesSent.delete(path);
  server.cutOnce = { path, bytes: 100_000 };
  const pull = await runCli(["pull", `${server.url}${path}`, "--name", "cut-adder", "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const ranges = server.requests.filter(
    (r) => r.startsWith(`GET ${path} range=bytes=`) && !r.endsWith("=0-0"),
  );
  assert.equal(ranges.length, 1, server.requests.join("\n"));
  const resumedAt = Number(/bytes=(\d+)-$/.exec(ranges[0] as string)?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 100_000, ranges[0]);
  const sent = server.bytesSent.get(path) ?? 0;
  // each probe (Range: bytes=0-0) costs one byte; the body is sent once, plus what was cut and not kept
  assert.ok(sent <= inline.length + 100_000 - resumedAt + 2, `${sent} bytes sent for ${inline.length}`);
  assert.equal(lastJson(pull.stdout).files[0].size, inline.length);
});

test("a pull killed mid-download resumes from its .incomplete file; nothing is registered before that", async () => {
  const { home, env } = freshEnv();
  const path = "/models/add-64k.onnx";
  server.requests.length = 0;
  server.bytesSent.delete(path);
  server.stallOnce = { path, bytes: 120_000 };
  const child = spawn(process.execPath, [cliPath, "pull", `${server.url}${path}`, "--name", "killed"], {
    env: { ...process.env, ...env, HF_HUB_DOWNLOAD_TIMEOUT: "600" },
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const cache = join(home, "gpux", "url");
  const partialSize = () => {
    if (!existsSync(cache)) return 0;
    const entry = readdirSync(cache, { recursive: true, withFileTypes: true }).find((e) =>
      e.name.endsWith(".incomplete"),
    );
    return entry ? (statSync(join(entry.parentPath, entry.name), { throwIfNoEntry: false })?.size ?? 0) : 0;
  };
  try {
    for (let i = 0; partialSize() < 120_000; i++) {
      assert.ok(i < 600, "the download did not reach the stall");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  assert.deepEqual(await listed(env), [], "a killed pull registers nothing");
  const pull = await runCli(["pull", `${server.url}${path}`, "--name", "killed", "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(server.requests.includes(`GET ${path} range=bytes=120000-`), server.requests.join("\n"));
  // the stalled 120 000 bytes, the rest once, and a byte per probe
  assert.ok((server.bytesSent.get(path) ?? 0) <= inline.length + 2, String(server.bytesSent.get(path)));
});

test("--include takes more files from beside the URL; globs are refused with what to write", async () => {
  const { env } = freshEnv();
  const url = `${server.url}/ext/add-ext.onnx`;
  const pull = await runCli(["pull", url, "--include", "labels.txt", "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(
    lastJson(pull.stdout).files.map((f: { path: string }) => f.path),
    ["add-ext.onnx", "weights.bin", "labels.txt"],
  );
  const glob = await runCli(["pull", url, "--include", "*.txt", "--name", "other"], { env });
  assert.equal(glob.code, 1);
  assert.match(glob.stderr, /--include '\*\.txt' does not name a file beside the model/);
});

test("a URL that is missing, or is not an ONNX file, fails clearly and registers nothing", async () => {
  const { home, env } = freshEnv();
  const missing = await runCli(["pull", `${server.url}/models/nope.onnx`], { env });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /models\/nope\.onnx does not exist \(HTTP 404\)/);
  const page = await runCli(["pull", `${server.url}/page/index.onnx`], { env });
  assert.equal(page.code, 1, page.stderr);
  assert.match(page.stderr, /page\/index\.onnx is not an ONNX model/);
  assert.deepEqual(await listed(env), []);
  const left = readdirSync(join(home, "gpux", "url"), { recursive: true, withFileTypes: true });
  assert.deepEqual(
    left.filter((e) => e.isFile()).map((e) => e.name),
    [],
  );
  const hub = await runCli(["pull", "org/name", "--sha256", "0".repeat(64)], { env });
  assert.equal(hub.code, 1);
  assert.match(hub.stderr, /--name and --sha256 are for URLs and local files/);
});
