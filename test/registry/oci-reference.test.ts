import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOciReference, registryHost, storeRepoId } from "../../src/registry/oci/oci-reference.js";
import { parseModelRef } from "../../src/registry/registries.js";

test("OCI references: oci://, a host with a dot or a port, tags and digests", () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  assert.deepEqual(parseOciReference("oci://localhost:5000/models/tiny:v1"), {
    host: "localhost:5000",
    repository: "models/tiny",
    tag: "v1",
    digest: undefined,
  });
  assert.deepEqual(parseOciReference(`ghcr.io/org/team/model@${digest}`), {
    host: "ghcr.io",
    repository: "org/team/model",
    tag: undefined,
    digest,
  });
  assert.equal(parseOciReference("127.0.0.1:5000/m")?.tag, undefined);
  assert.equal(parseOciReference("oci://registry/m:v1")?.host, "registry", "oci:// makes any host a host");
  assert.equal(parseOciReference("org/name:v1"), undefined, "no dot, no port: a Hub id");
  assert.equal(parseOciReference("ghcr.io/Org/model"), undefined, "repository names are lower case");
  assert.equal(parseOciReference("ghcr.io/org/model@sha256:xyz"), undefined);
  assert.equal(storeRepoId({ host: "ghcr.io", repository: "a/b/c" }), "ghcr.io/a~b~c");
  assert.equal(registryHost("https://Ghcr.io/"), "ghcr.io");
});

test("references pick their registry: OCI syntax goes to oci, everything else stays with the Hub", () => {
  assert.equal(parseModelRef("oci://localhost:5000/models/tiny:v1").registry.name, "oci");
  assert.equal(parseModelRef("ghcr.io/org/model:v2").ref.revision, "v2");
  assert.equal(parseModelRef("ghcr.io/org/model").ref.revision, undefined, "no tag: the registry's latest");
  assert.equal(parseModelRef("org/name:v1").registry.name, "huggingface");
  assert.equal(parseModelRef("gpt2").registry.name, "huggingface");
  assert.equal(parseModelRef("oci:ghcr.io/org/model:v1").registry.name, "oci");
  assert.throws(() => parseModelRef("x/y:v1", { registry: "oci" }), /not a model reference oci understands/);
});
