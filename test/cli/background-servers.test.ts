import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, runCli, runProcess } from "../helpers/cli.js";
import { addOneSpec, call, slowModelSpec, slowRequest, writeModelFolder } from "../helpers/serving.js";

interface Listed {
  id: string;
  models: string[];
  url: string;
  port: number;
  pid: number;
  detached: boolean;
  log: string | null;
}

const home = mkdtempSync(join(tmpdir(), "gpux-servers-"));
// no server outlives the test, then the folder goes (tempDir's own removal could run before the stop)
after(async () => {
  await gpux(["stop", "all", "-t", "1"]);
  rmSync(home, { recursive: true, force: true });
});
const env = { GPUX_HOME: join(home, "gpux") };
const serversDir = join(home, "gpux", "servers");
const model = writeModelFolder(home, "add", addOneSpec);
const gpux = (args: string[]) => runCli(args, { env, cwd: home });
const listed = async () =>
  (JSON.parse((await gpux(["ps", "--json"])).stdout) as { servers: Listed[] }).servers;
/** A process that runs (an exited one its parent has not reaped yet is a zombie: `Z`). */
const alive = (pid: number) => {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return stat !== "" && !/\) Z /.test(stat);
};

test("serve -d: an id and the URL once it listens; ps, logs (--tail, -f) and stop act on it", async () => {
  // -d combined with another short flag (-dp): the child serves, it does not detach again
  const started = await gpux(["serve", "-dp", "0", model]);
  assert.equal(started.code, 0, started.stderr);
  const [id, url] = started.stdout.trim().split(" ") as [string, string];
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(started.stderr, new RegExp(`gpux stop ${id}`));
  const answer = await call(`${url}predict`, { body: { x: [[1, 2, 3, 4]] } });
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { y: [[2, 3, 4, 5]] });

  const [server] = await listed();
  assert.equal(server?.id, id);
  assert.deepEqual(server?.models, ["add"]);
  assert.equal(server?.port, Number(new URL(url).port));
  assert.ok(server && alive(server.pid) && server.detached);
  assert.equal((await gpux(["ps", "-q"])).stdout, `${id}\n`);
  assert.match(
    (await gpux(["ps"])).stdout,
    new RegExp(`^${id}\\s+add\\s+${url}\\s+${server?.pid}\\s+\\d+ s\\s+detached$`, "m"),
  );

  const logs = await gpux(["logs", id.slice(0, 4)]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^gpux serving add \(cpu, 1 worker\)$/m);
  const tail = await gpux(["logs", id, "--tail", "1"]);
  assert.equal(tail.stdout.split("\n").length, 2, tail.stdout);

  // -f follows until the server exits, and shows its last line
  const following = spawn(process.execPath, [cliPath, "logs", "-f", id], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let followedText = "";
  following.stdout.on("data", (chunk) => {
    followedText += chunk;
  });
  const followExit = new Promise<number | null>((resolve) => following.on("exit", (code) => resolve(code)));
  for (let i = 0; i < 300 && !followedText.includes("gpux serving"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = await gpux(["stop", id.slice(0, 6)]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, `stopped ${id}\n`);
  assert.equal(await followExit, 0);
  assert.match(followedText, /SIGTERM: finishing requests in flight, then stopping\nstopped\n$/);
  assert.ok(server && !alive(server.pid));
  assert.deepEqual(await listed(), []);
  assert.deepEqual(readdirSync(serversDir), [], "record and log are gone");
});

test("serve -d on a busy port: the server's error and log tail, its exit code, nothing left behind", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const failed = await gpux(["serve", "-d", model, "--port", String(port)]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.equal(failed.stdout, "");
  assert.match(failed.stderr, new RegExp(`^error: .*${port}.*$`, "m"));
  assert.match(
    failed.stderr,
    /^error: The server exited \(code 1\) before it listened; the end of its log is above\.$/m,
  );
  assert.match(failed.stderr, /^hint: Fix what its log says and start it again\.$/m);
  assert.deepEqual(await listed(), []);
  assert.deepEqual(readdirSync(serversDir), []);
});

test("a foreground serve shows in ps until it exits; stop drains it; logs says where its output is", async () => {
  const child = spawn(process.execPath, [cliPath, "serve", model, "--port", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  after(() => child.kill("SIGKILL"));
  let server: Listed | undefined;
  for (let i = 0; i < 600 && !server; i++) {
    [server] = await listed();
    if (!server) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(server, "the foreground server has a record once it listens");
  assert.equal(server.pid, child.pid);
  assert.equal(server.detached, false);
  assert.equal(server.log, null);
  const logs = await gpux(["logs", server.id]);
  assert.equal(logs.code, 1);
  assert.match(logs.stderr, /runs in the foreground: its output is on its own terminal/);
  assert.equal((await gpux(["stop", "all"])).stdout, `stopped ${server.id}\n`);
  assert.equal(await exited, 0);
  assert.deepEqual(readdirSync(serversDir), []);
});

test("stop sends SIGKILL when the drain outlasts its deadline; ps drops records of dead processes", async () => {
  const slow = writeModelFolder(home, "slow", slowModelSpec(8, 4096));
  const started = await gpux([
    "serve",
    "-d",
    slow,
    "--port",
    "0",
    "--max-batch-size",
    "1",
    "--shutdown-timeout-ms",
    "120000",
  ]);
  assert.equal(started.code, 0, started.stderr);
  const [id, url] = started.stdout.trim().split(" ") as [string, string];
  const [server] = await listed();
  // requests in flight that take seconds to drain, then a stop that allows 0.3 s
  const requests = Array.from({ length: 40 }, () =>
    call(`${url}predict`, { body: slowRequest }).catch(() => undefined),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stop = await gpux(["stop", id, "-t", "0.3"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, `killed ${id} (still running 0.3 s after SIGTERM)\n`);
  assert.ok(server && !alive(server.pid));
  await Promise.all(requests);
  assert.deepEqual(readdirSync(serversDir), []);

  // a record left by a process that is gone (SIGKILL, a reboot) is dropped by the next ps
  const dead = await runProcess(process.execPath, ["-e", "console.log(process.pid)"]);
  const stale = {
    id: "0123456789ab",
    pid: Number(dead.stdout),
    url: "http://127.0.0.1:1/",
    models: ["x"],
    startedAt: new Date().toISOString(),
    shutdownTimeoutMs: 1,
  };
  writeFileSync(join(serversDir, `${stale.id}.json`), JSON.stringify(stale));
  assert.deepEqual(await listed(), []);
  assert.ok(!existsSync(join(serversDir, `${stale.id}.json`)));
  const missing = await gpux(["stop", "0123"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^hint: No gpux server is running; `gpux serve -d MODEL` starts one/m);
});
