import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Fastify from "fastify";
import { repoRoot, runProcess } from "../helpers/cli.js";

/** Node 20 as gpux supports it (package.json engines), at the release its CI and Docker image run. */
const node20 = { major: 20, minor: 19, patch: 0 };

/** Whether one engines.node alternative (`>=18`, `^20.9.0`, `>= 0.4`, `18 - 22`) admits `node20`. */
function admits(range: string): boolean {
  const version = (text: string) => {
    const [major = 0, minor = 0, patch = 0] = text
      .replace(/^v/, "")
      .split(".")
      .map((n) => Number.parseInt(n, 10) || 0);
    return major * 1e6 + minor * 1e3 + patch;
  };
  const ours = version(`${node20.major}.${node20.minor}.${node20.patch}`);
  return range.split("||").some((alternative) =>
    alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, "$1")
      .split(/\s+/)
      .every((part) => {
        const match = /^(>=|>|<=|<|\^|~|=)?(\S+)$/.exec(part);
        if (!match) return true;
        const [, op = "=", text = ""] = match;
        const bound = version(text.replace(/\.x$/, ""));
        if (op === ">=") return ours >= bound;
        if (op === ">") return ours > bound;
        if (op === "<=") return ours <= bound;
        if (op === "<") return ours < bound;
        if (op === "^") return ours >= bound && Math.floor(ours / 1e6) === Math.floor(bound / 1e6);
        return text.split(".")[0] === String(node20.major) || ours === bound;
      }),
  );
}

test("every installed package supports Node 20, which gpux supports (defect 9: cookie@2 wants ≥ 22)", () => {
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
  };
  const refusing = Object.entries(lock.packages)
    .filter(([, entry]) => !entry.optional)
    .map(([path, entry]) => [path, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
    .filter(([, range]) => range !== undefined && !admits(range))
    .map(([path, range]) => `${path} (node ${range})`);
  assert.deepEqual(refusing, []);
});

test("npm reads the project's settings without a warning (defect 9: .npmrc's onnxruntime-node-install)", async () => {
  const listed = await runProcess("npm", ["config", "list"], { cwd: repoRoot });
  assert.equal(listed.code, 0, listed.stderr);
  assert.doesNotMatch(listed.stderr, /warn/i);
});

test("light-my-request (fastify's inject) still sends cookies with the cookie version that supports Node 20", async () => {
  const app = Fastify();
  app.get("/", async (request) => ({ cookie: request.headers.cookie }));
  const answer = await app.inject({ method: "GET", url: "/", cookies: { session: "a b", theme: "dark" } });
  assert.deepEqual(answer.json(), { cookie: "session=a%20b; theme=dark" });
  await app.close();
});
