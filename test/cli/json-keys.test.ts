import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { addOneSpec, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({ repos: [onnxRepo("org/Name")] });
after(() => hub.close());

/** Every key of every object in `value`, with where it sits. */
function keysOf(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keysOf(item, `${path}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => [
    `${path}.${key}`,
    ...keysOf(child, `${path}.${key}`),
  ]);
}

/** The models here name their tensors x and y, so every key of every answer, data maps included, is snake_case. */
function assertSnakeCase(command: string, stdout: string): void {
  const lines = stdout.trim().split("\n");
  assert.ok(lines.length > 0 && lines[0] !== "", `${command}: no output`);
  for (const line of lines) {
    const wrong = keysOf(JSON.parse(line))
      // opsets are keyed by ONNX domain, "" being ONNX's own: data, not a key gpux chose
      .filter((path) => !/\.opsets\.[^.]*$/.test(path))
      .filter((path) => !/^[a-z0-9_]+$/.test(path.split(".").pop() as string));
    assert.deepEqual(wrong, [], `${command} --json has keys that are not snake_case`);
  }
}

test("every command's --json output is snake_case (defect 8)", async () => {
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const model = writeModelFolder(home, "add-one", addOneSpec);
  const input = JSON.stringify({ x: [[1, 2, 3, 4]] });
  const commands: string[][] = [
    ["pull", "org/Name", "--json"],
    ["pull", "org/Name", "--json", "--dry-run"],
    // a pulled ONNX repo converts by passthrough: the report, without Python
    ["convert", "org/Name", "--json"],
    ["ls", "--json"],
    ["inspect", "--json"],
    ["inspect", model, "--json"],
    ["inspect", "org/Name", "--json"],
    ["build", model, "--json"],
    ["run", model, "--input", input, "--json"],
    ["run", model, "--input", input, "--json", "--benchmark", "--runs", "2", "--warmup", "0"],
    ["doctor", "--json"],
    ["run", join(home, "missing.onnx"), "--json", "--input", input],
    ["rm", "org/Name", "--json"],
  ];
  for (const args of commands) {
    const result = await runCli(args, { env, cwd: home });
    const failing = args[1]?.endsWith("missing.onnx") ?? false;
    assert.equal(result.code === 0, !failing, `${args.join(" ")}: ${result.stderr}`);
    assertSnakeCase(args.join(" "), result.stdout);
  }
});
