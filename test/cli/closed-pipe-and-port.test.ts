import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { cliPath, repoRoot, runCli } from "../helpers/cli.js";
import { addOneSpec, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const model = writeModelFolder(dir, "add", addOneSpec);

/** Run gpux with its stdout closed before it writes (`gpux … | head -0`): its exit code and stderr. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, stdio: "pipe" });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("a reader that goes away", () => {
  for (const args of [["inspect", model], ["inspect"], ["ls"], ["--help"], ["inspect", model, "--json"]]) {
    test(`gpux ${args.join(" ")} | head: exits quietly, no stack trace`, async () => {
      const result = await withClosedStdout(args);
      assert.equal(result.stderr, "");
      assert.equal(result.code, 0);
    });
  }
});

describe("gpux serve: addresses it cannot listen on are user errors", () => {
  test("a busy port names --port, exit 1", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(["serve", model, "--port", String(port)]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`error: Port ${port} on 127.0.0.1 is already in use`));
      assert.match(result.stderr, /hint: .*--port/);
      assert.doesNotMatch(result.stderr, /bug in gpux/);
    } finally {
      busy.close();
    }
  });

  test("port 99999 names --port, exit 1", async () => {
    const result = await runCli(["serve", model, "--port", "99999"]);
    assert.equal(result.code, 1, result.stderr);
    // the one numeric flag parser refuses it before anything loads or listens
    assert.match(result.stderr, /error: --port must be a whole number from 0 to 65535, got '99999'/);
    assert.match(result.stderr, /hint: .*--port/);
  });

  test("a host that does not resolve names --host, exit 1", async () => {
    const result = await runCli(["serve", model, "--port", "0", "--host", "no-such-host.invalid"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: The --host 'no-such-host.invalid' is not an address/);
    assert.doesNotMatch(result.stderr, /bug in gpux/);
  });

  test("an address this machine does not own names --host, exit 1", async () => {
    const result = await runCli(["serve", model, "--port", "0", "--host", "192.0.2.1"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: This machine has no address 192.0.2.1/);
  });
});
