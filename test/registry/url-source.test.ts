import assert from "node:assert/strict";
import { test } from "node:test";
import { parseModelRef, readStoreRef } from "../../src/registry/registries.js";
import { derivedStoreName, parseUrlSource } from "../../src/registry/url/url-source.js";

test("URLs ending in .onnx, file:// URLs and paths go to the URL registry; ids and page URLs do not", () => {
  const url = [
    "https://host/models/mnist-8.onnx",
    "http://127.0.0.1:8080/a/b.onnx?sig=x",
    "file:///srv/m.onnx",
  ];
  const paths = ["./model.onnx", "../exports/folder", "/abs/folder", ".", "models.v2/net.onnx", "model.onnx"];
  for (const typed of [...url, ...paths]) assert.equal(parseModelRef(typed).registry.name, "url", typed);
  for (const typed of ["org/name", "gpt2", "https://huggingface.co/org/Name", "localhost:5000/m:v1"]) {
    assert.notEqual(parseModelRef(typed).registry.name, "url", typed);
  }
  assert.equal(parseModelRef("https://host/download?id=3", { registry: "url" }).registry.name, "url");
  assert.equal(parseModelRef("url:https://host/download?id=3").registry.name, "url");
});

test("a bare name is never a local folder, even for the URL registry: store lookups stay names", () => {
  assert.equal(parseUrlSource("org/name"), undefined);
  assert.equal(parseUrlSource("my-model"), undefined);
  assert.deepEqual(
    readStoreRef("org/name").map((r) => r.ref.repoId),
    ["org/name"],
  );
});

test("the store name: the file name without .onnx, or the folder's, in id characters; --name wins and is checked", () => {
  const cases: Array<[string, string]> = [
    ["https://host/models/mnist-8.onnx", "mnist-8"],
    ["https://host/a/My%20Model%20(v2).ONNX", "My-Model-v2"],
    ["file:///srv/models/resnet50.onnx", "resnet50"],
    ["/data/exports/my-bert/", "my-bert"],
    ["https://host/", "host"],
  ];
  for (const [typed, name] of cases) {
    const source = parseUrlSource(typed, "/tmp");
    assert.ok(source, typed);
    assert.equal(derivedStoreName(source), name, typed);
  }
  assert.equal(parseModelRef("./x.onnx", { name: "team/x" }).ref.repoId, "team/x");
  assert.throws(() => parseModelRef("./x.onnx", { name: "a/b/c" }), /--name 'a\/b\/c' is not a model name/);
});
