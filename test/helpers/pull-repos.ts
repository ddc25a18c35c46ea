import assert from "node:assert/strict";
import { join } from "node:path";
import { after } from "node:test";
import { runCli } from "./cli.js";
import { type FakeRepo, startFakeHub } from "./fake-hub.js";
import { tempDir } from "./temp-dir.js";

/**
 * `gpux pull` each repo from a fake hub into a fresh gpux home (converting it when it has no ONNX) and return
 * their store entries in the same order, ready for startServer. The hub closes when the calling test (or,
 * at the top level, the file) ends.
 */
export async function pullRepos(repos: FakeRepo[]): Promise<string[]> {
  const hub = await startFakeHub({ repos });
  after(() => hub.close());
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const pulled = await Promise.all(repos.map((repo) => runCli(["pull", repo.id, "--json"], { env })));
  return pulled.map((result) => {
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout.trim().split("\n").pop() as string) as { path: string }).path;
  });
}
