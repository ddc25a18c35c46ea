import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { findInStore } from "../../src/app/find-in-store.js";
import { pullModel } from "../../src/app/pull-model.js";
import { removeModel } from "../../src/app/remove-model.js";
import { resolveModelRef } from "../../src/app/resolve.js";
import { entryKey } from "../../src/store/entry-key.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [{ ...onnxRepo("org/Name", { variants: ["fp16"] }), revisions: ["v1"] }, onnxRepo("other/Thing")],
});
after(() => hub.close());
const home = tempDir();
const cacheDir = join(home, "hub");
process.env.GPUX_HOME = join(home, "gpux");
process.env.HF_HUB_CACHE = cacheDir;
const options = { env: { HF_ENDPOINT: hub.url }, cacheDir };
const commit = hub.commitOf("org/Name");

test("entry keys: default options are the bare commit; others a readable slug or a hash", () => {
  assert.equal(entryKey({}), "");
  assert.equal(entryKey({ variant: "fp32" }), "");
  assert.equal(entryKey({ variant: "fp16" }), "variant-fp16");
  assert.equal(entryKey({ variant: "q4", opset: 17 }), "opset-17_variant-q4");
  assert.match(
    entryKey({ task: "text-classification", opset: 17, atol: 0.0001, optimize: true, variant: "x/y" }),
    /^o-[0-9a-f]{16}$/,
  );
});

test("revisions that resolve to one commit share one entry; variants get their own", async () => {
  const v1 = await pullModel("org/Name@v1", options);
  const main = await pullModel("org/name", options);
  assert.equal(main.cached, true);
  assert.equal(main.entry?.dir, v1.entry?.dir);
  assert.equal(basename(v1.entry?.dir ?? ""), commit);
  assert.deepEqual(JSON.parse(readFileSync(join(v1.entry?.dir ?? "", "manifest.json"), "utf8")).revisions, [
    "v1",
    "main",
  ]);
  assert.equal(readFileSync(join(cacheDir, "models--org--Name", "refs", "main"), "utf8"), commit);
  assert.equal(readFileSync(join(cacheDir, "models--org--Name", "refs", "v1"), "utf8"), commit);

  const fp16 = await pullModel("org/Name", { ...options, variant: "fp16" });
  assert.equal(basename(fp16.entry?.dir ?? ""), `${commit}+variant-fp16`);
  assert.equal(fp16.entry?.manifest.model, "onnx/model_fp16.onnx");
  assert.equal((await pullModel("org/Name", { ...options, variant: "fp16" })).cached, true);
  assert.equal(await findInStore("org/NAME"), v1.entry?.dir);
  assert.equal(await findInStore(`org/Name@${commit.slice(0, 10)}`), v1.entry?.dir);
  assert.equal(await findInStore("org/Name@v1"), v1.entry?.dir);
  assert.equal(await findInStore("org/Name@v2"), undefined);
});

test("the name in gpux.yml, and the short name, resolve too", async () => {
  const thing = await pullModel("other/Thing", options);
  const yml = join(thing.entry?.dir ?? "", "gpux.yml");
  assert.equal(await findInStore("Thing"), thing.entry?.dir);
  writeFileSync(yml, readFileSync(yml, "utf8").replace("name: other/Thing", "name: sentiment"));
  assert.equal(await findInStore("sentiment"), thing.entry?.dir);
  assert.equal(await findInStore("nothing-like-it"), undefined);
});

test("Docker's name:tag and a pasted Hub URL pull and find the model; unknown names get a did-you-mean", async () => {
  const tagged = await pullModel("org/Name:v1", options);
  assert.equal(tagged.remote.revision, "v1");
  assert.equal(tagged.cached, true, "org/Name@v1 is already in the store");
  assert.equal((await pullModel("other/Thing:latest", options)).remote.revision, "main");
  assert.equal((await pullModel(`${hub.url}/org/Name/tree/v1`, options)).entry?.dir, tagged.entry?.dir);
  assert.equal(await findInStore("org/Name:v1"), tagged.entry?.dir);
  assert.equal(await findInStore("https://huggingface.co/org/Name"), tagged.entry?.dir);

  const hintOf = async (work: Promise<unknown>) =>
    work.then(
      () => assert.fail("expected a NotFoundError"),
      (error: Error & { hint?: string }) => {
        assert.equal(error.name, "NotFoundError");
        return error.hint ?? "";
      },
    );
  assert.match(await hintOf(resolveModelRef("org/Nmae")), /Did you mean: org\/Name\?/);
  assert.match(await hintOf(resolveModelRef("Thnig")), /Did you mean: [^?]*\bThing\b/);
  assert.match(await hintOf(removeModel("org/Nmae", { cacheDir })), /Did you mean: org\/Name\?/);
  assert.doesNotMatch(await hintOf(resolveModelRef("completely-different")), /Did you mean/);
});

test("rm removes one entry, --all-revisions the rest, --purge the cache files nobody links", async () => {
  const one = await removeModel("org/Name", { cacheDir });
  assert.equal(one.removed.length, 1);
  assert.equal(one.kept.length, 1);
  const rest = await removeModel("org/Name", { cacheDir, allRevisions: true, purge: true });
  assert.equal(rest.removed.length, 1);
  assert.ok(rest.freedBytes > 0);
  // Purge removes the files only the removed entries listed; the fp32 files stay linked until purged too.
  await pullModel("org/Name", options);
  const purged = await removeModel("org/Name", { cacheDir, allRevisions: true, purge: true });
  assert.ok(purged.freedBytes > 0);
  const repoDir = join(cacheDir, "models--org--Name");
  assert.deepEqual(readdirSync(join(repoDir, "blobs")), []);
  assert.ok(!existsSync(join(repoDir, "snapshots", commit)));
  assert.ok(!existsSync(join(repoDir, "refs", "main")));
  await assert.rejects(removeModel("org/Name", { cacheDir }), /not in the gpux store/);
});
