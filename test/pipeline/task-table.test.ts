import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { inferTask } from "../../src/config/infer-task.js";
import { taskNames as configTaskNames } from "../../src/config/schema.js";
import { detectTask } from "../../src/convert/detect-task.js";
import { selectPipeline } from "../../src/pipeline/select-pipeline.js";
import { playgroundPage } from "../../src/server/playground-page.js";
import { exportHeadOf, findTask, taskNames, taskTable } from "../../src/tasks.js";
import { python, requirePython } from "../helpers/python.js";

const snapshot = { dir: "/nowhere", files: ["config.json", "model.safetensors"] };

// Where the two architecture tables used to disagree, and the new decoder rows.
const architectures: Array<[string, string]> = [
  ["BertForSequenceClassification", "text-classification"],
  ["BertForTokenClassification", "token-classification"],
  ["DistilBertForQuestionAnswering", "question-answering"],
  ["BertForMaskedLM", "fill-mask"],
  ["ViTForImageClassification", "image-classification"],
  ["DeiTForImageClassificationWithTeacher", "image-classification"],
  ["BertModel", "feature-extraction"],
  ["XLMRobertaForFeatureExtraction", "feature-extraction"],
  ["GPT2LMHeadModel", "text-generation"],
  ["LlamaForCausalLM", "text-generation"],
];

test("pull (gpux.yml) and convert pick the same task for every architecture rule", () => {
  for (const [architecture, task] of architectures) {
    assert.equal(inferTask(undefined, [architecture]), task, `inferTask ${architecture}`);
    const detected = detectTask({ architectures: [architecture] }, snapshot, undefined);
    assert.equal(detected.task, task, `detectTask ${architecture}`);
    assert.equal(detected.source, "architectures");
  }
});

test("an architecture no rule knows is no task, and a head-like suffix in the middle is not a match", () => {
  assert.equal(inferTask(undefined, ["BertForSomethingNew"]), undefined);
  assert.equal(inferTask(undefined, ["ViTForImageClassificationHead"]), undefined);
  assert.throws(
    () => detectTask({ architectures: ["BertForSomethingNew"] }, snapshot, undefined),
    /architecture BertForSomethingNew/,
  );
});

test("pipeline tags and aliases: sentence-similarity serves as itself and exports feature-extraction's head", () => {
  assert.equal(inferTask("sentence-similarity", ["BertModel"]), "sentence-similarity");
  assert.equal(inferTask("zero-shot-classification", []), "text-classification");
  assert.equal(inferTask("summarization", ["BertModel"]), "feature-extraction");
  const detected = detectTask({}, { ...snapshot, pipelineTag: "sentence-similarity" }, undefined);
  assert.deepEqual([detected.task, detected.head.auto_class], ["feature-extraction", "AutoModel"]);
  assert.equal(detectTask({}, snapshot, "ner").task, "token-classification");
  assert.equal(findTask("sentiment-analysis")?.name, "text-classification");
});

test("gpux.yml's task names, the pipelines and the playground come from the table", () => {
  assert.deepEqual(configTaskNames, [...taskNames, "raw"]);
  for (const task of taskNames) {
    const pipeline = selectPipeline({ task } as Parameters<typeof selectPipeline>[0]);
    assert.equal(pipeline.task, task === "text-generation" ? "raw" : task, task);
  }
  const page = playgroundPage(["m"]);
  const textTasks = taskTable.filter((t) => t.text).map((t) => t.name);
  assert.ok(page.includes(`const textTasks = ${JSON.stringify(textTasks)};`));
});

test("text-generation: exported as a causal LM with a KV cache, served as a raw graph for now", () => {
  const task = findTask("text-generation");
  assert.deepEqual(task?.pipelineTags, ["text-generation"]);
  const { head } = exportHeadOf(task as NonNullable<typeof task>);
  assert.equal(head.auto_class, "AutoModelForCausalLM");
  assert.equal(head.kv_cache, true);
  assert.equal(selectPipeline({ task: "text-generation" } as never).task, "raw");
});

test("the Python bridge keeps no task table: it loads and names exactly the head TypeScript sends", (t) => {
  const bridge = join(import.meta.dirname, "../../python/gpux_bridge");
  for (const file of readdirSync(bridge).filter((name) => name.endsWith(".py"))) {
    const source = readFileSync(join(bridge, file), "utf8");
    assert.doesNotMatch(source, /AutoModelFor\w+|"last_hidden_state":/, `${file} names a head itself`);
  }
  if (!requirePython(t, ["torch", "transformers"])) return;
  const heads = Object.fromEntries(
    taskTable.filter((task) => !("as" in task.export)).map((task) => [task.name, exportHeadOf(task).head]),
  );
  const script = [
    "import json, sys",
    "from gpux_bridge.heads import auto_class, output_axes",
    "heads = json.loads(sys.stdin.read())",
    "out = {}",
    "for task, head in heads.items():",
    "    try:",
    "        out[task] = [auto_class(head).__name__, {k: {str(a): n for a, n in v.items()} for k, v in output_axes(head, None).items()}]",
    "    except Exception as error:",
    "        out[task] = [type(error).__name__]",
    "print(json.dumps(out))",
  ].join("\n");
  const result = spawnSync(python, ["-c", script], {
    input: JSON.stringify(heads),
    cwd: join(bridge, ".."),
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  const answered = JSON.parse(result.stdout) as Record<string, unknown[]>;
  for (const [task, head] of Object.entries(heads)) {
    assert.deepEqual(answered[task], [head.auto_class, head.outputs], task);
  }
});
