import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { defaults } from "../../src/util/settings.js";
import { cliPath, repoRoot, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { addOneSpec, call, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [
    onnxRepo("org/Name"),
    {
      id: "org/Checkpoint",
      files: {
        "config.json": JSON.stringify({ model_type: "bert", architectures: ["BertModel"] }),
        "model.safetensors": new Uint8Array(64),
      },
    },
  ],
});
after(() => hub.close());

function hubEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    GPUX_HUB_BACKOFF_MS: "10",
    ...extra,
  };
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

/** Every error line pair: `error: …` then `hint: …`, nothing else on stderr. */
function assertErrorWithHint(stderr: string, message: RegExp, hint?: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, stderr);
  assert.match(lines[0] as string, /^error: /);
  assert.match(lines[0] as string, message);
  assert.match(lines[1] as string, /^hint: \S/);
  if (hint) assert.match(lines[1] as string, hint);
}

test("serving two models: the second's serving.port is used, not a default filled into the first (defect 2)", async () => {
  const dir = tempDir();
  const port = await freePort();
  // the first sets other serving settings but no port: the schema used to fill port 8080 into it
  const first = writeModelFolder(
    dir,
    "first",
    addOneSpec,
    "name: first\nmodel:\n  source: model.onnx\nserving:\n  max_batch_size: 4\n",
  );
  const second = writeModelFolder(
    dir,
    "second",
    addOneSpec,
    `name: second\nmodel:\n  source: model.onnx\nserving:\n  port: ${port}\n`,
  );
  const child = spawn(process.execPath, [cliPath, "serve", first, second], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  after(() => child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /playground\s+(http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`gpux serve exited ${code}: ${stderr}`)));
  });
  assert.equal(new URL(url).port, String(port));
  for (const name of ["first", "second"]) {
    const answer = await call(`${url}v2/models/${name}/infer`, {
      body: { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual((answer.body as { outputs: Array<{ data: number[] }> }).outputs[0]?.data, [2, 3, 4, 5]);
  }
});

test("GPUX_PULL_CONCURRENCY that is not a whole number ≥ 1 is refused before anything is fetched (defect 3)", async () => {
  for (const value of ["abc", "0", "1.5"]) {
    const home = tempDir();
    const pulled = await runCli(["pull", "org/Name"], {
      env: hubEnv(home, { GPUX_PULL_CONCURRENCY: value }),
    });
    assert.equal(pulled.code, 1, pulled.stderr);
    assertErrorWithHint(
      pulled.stderr.replace(/^(?!error: |hint: ).*\n/gm, ""),
      new RegExp(`GPUX_PULL_CONCURRENCY must be a whole number ≥ 1, got '${value.replace(".", "\\.")}'`),
      /Unset GPUX_PULL_CONCURRENCY for the default \(4\)/,
    );
    assert.equal(existsSync(join(home, "gpux", "models")), false);
  }
  const home = tempDir();
  const pulled = await runCli(["pull", "org/Name"], { env: hubEnv(home, { GPUX_PULL_CONCURRENCY: "2" }) });
  assert.equal(pulled.code, 0, pulled.stderr);
});

test("HF_ENDPOINT without a scheme is a config error that says to add http:// (issue 15)", async () => {
  const home = tempDir();
  const host = new URL(hub.url).host;
  const pulled = await runCli(["pull", "org/Name"], { env: hubEnv(home, { HF_ENDPOINT: host }) });
  assert.equal(pulled.code, 1, pulled.stderr);
  assertErrorWithHint(
    pulled.stderr,
    new RegExp(`HF_ENDPOINT must be an http:// or https:// URL, got '${host}'`),
    new RegExp(`Add http://.*HF_ENDPOINT=http://${host}`),
  );
});

test("other numeric variables are checked the same way", async () => {
  const home = tempDir();
  for (const [name, value] of [
    ["GPUX_HUB_RETRIES", "0"],
    ["GPUX_HUB_BACKOFF_MS", "soon"],
    ["HF_HUB_DOWNLOAD_TIMEOUT", "-1"],
  ] as const) {
    const pulled = await runCli(["pull", "org/Name", "--force"], { env: hubEnv(home, { [name]: value }) });
    assert.equal(pulled.code, 1, `${name}: ${pulled.stderr}`);
    assert.match(
      pulled.stderr,
      new RegExp(`^error: ${name} must be a (whole )?number ≥ [\\d.]+, got '${value}'`, "m"),
    );
  }
});

test("flag mistakes: one error line and one hint line, exit 1 (issue 15: every error has a hint)", async () => {
  const model = writeModelFolder(tempDir(), "m", addOneSpec);
  const input = JSON.stringify({ x: [[1, 2, 3, 4]] });
  const cases: Array<[string[], RegExp, RegExp?]> = [
    [["serve", model, "--port", "abc"], /--port must be a whole number from 0 to 65535, got 'abc'/],
    [["serve", model, "--port", "70000"], /--port must be a whole number from 0 to 65535/],
    [["serve", model, "--workers", "0"], /--workers must be a whole number ≥ 1, got '0'/],
    [["run", model, "--benchmark", "--runs", "0"], /--runs must be a whole number ≥ 1, got '0'/],
    [["run", model, "--benchmark", "--warmup", "x"], /--warmup must be a whole number ≥ 0/],
    [
      ["run", model, "--input", input, "--timeout", "soon"],
      /--timeout must be a number ≥ 0/,
      /0 runs without/,
    ],
    [
      ["run", model, "--input", input, "--runs", "5"],
      /--runs and --warmup apply to --benchmark only/,
      /--benchmark/,
    ],
    [["run", model, "--input", input, "--text", "hi"], /Use one of --input, --text, not several/],
    [["pull"], /missing required argument 'model'/, /gpux pull --help/],
    [["run", model, "--bogus"], /unknown option '--bogus'/, /gpux run --help/],
    [["frobnicate"], /unknown command 'frobnicate'/, /gpux --help/],
    [["pull", "org/x", "--opset", "seventeen"], /--opset must be a whole number ≥ 1/, /opset such as 17/],
    [["convert", model, "--atol", "-1"], /--atol must be a number ≥ 0/],
    [
      ["convert", model, "--task", "text-clasification"],
      /--task 'text-clasification' cannot be exported\. Did you mean 'text-classification'\?/,
      /--task text-classification/,
    ],
  ];
  for (const [args, message, hint] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
    assertErrorWithHint(result.stderr, message, hint);
    assert.equal(result.stdout, "", args.join(" "));
  }
});

test("with --json, errors are one JSON object on stdout; pull --json ends its event stream with an error event", async () => {
  const model = writeModelFolder(tempDir(), "m", addOneSpec);
  const run = await runCli(["run", model, "--json", "--runs", "0", "--benchmark"]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, "");
  assert.deepEqual(JSON.parse(run.stdout), {
    error: {
      message: "--runs must be a whole number ≥ 1, got '0'.",
      hint: "Give --runs a whole number ≥ 1.",
      exit_code: 1,
    },
  });
  const missing = await runCli(["run", join(model, "nothing.onnx"), "--json", "--input", "{}"]);
  assert.equal(missing.code, 2);
  const body = JSON.parse(missing.stdout) as { error: { message: string; hint: string; exit_code: number } };
  assert.equal(body.error.exit_code, 2);
  assert.match(body.error.hint, /\S/);

  const home = tempDir();
  const pulled = await runCli(["pull", "org/Missing", "--json"], { env: hubEnv(home) });
  assert.equal(pulled.code, 2, pulled.stderr);
  const events = pulled.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { event: string; error?: { exit_code: number } });
  const last = events.at(-1);
  assert.equal(last?.event, "error");
  assert.equal(last?.error?.exit_code, 2);
});

test("--help shows the defaults the code applies", async () => {
  // commander wraps help at the terminal width: compare with the line breaks taken out
  const serve = { stdout: (await runCli(["serve", "--help"])).stdout.replace(/\s+/g, " ") };
  assert.match(serve.stdout, new RegExp(`serving\\.port, default ${defaults.serve.port}\\)`));
  assert.match(
    serve.stdout,
    new RegExp(`serving\\.max_batch_size, default ${defaults.serve.maxBatchSize}\\)`),
  );
  assert.match(serve.stdout, new RegExp(`serving\\.timeout_ms, default ${defaults.serve.timeoutMs}\\)`));
  const run = { stdout: (await runCli(["run", "--help"])).stdout.replace(/\s+/g, " ") };
  assert.match(
    run.stdout,
    new RegExp(`--runs <n> +timed runs with --benchmark \\(default ${defaults.run.runs}\\)`),
  );
});

test("--variant on a repo with no ONNX files is refused, not ignored (issue 15)", async () => {
  const home = tempDir();
  const refused = await runCli(["pull", "org/Checkpoint", "--variant", "fp16", "--dry-run"], {
    env: hubEnv(home),
  });
  assert.equal(refused.code, 1, refused.stderr);
  assertErrorWithHint(
    refused.stderr.replace(/^(?!error: |hint: ).*\n/gm, ""),
    /--variant fp16 picks one of a repo's ONNX files, and this repo has none/,
    /Leave out --variant/,
  );
  const plain = await runCli(["pull", "org/Checkpoint", "--dry-run"], { env: hubEnv(home) });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /model\.safetensors/);
});
