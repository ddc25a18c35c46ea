/**
 * Pre- and post-processing time against session time, side by side in one run: a MiniLM-L6-sized BERT
 * classifier on a 128-token sentence (batch 1 and 8) and the text-direction image model.
 * Run: npx tsx bench/pipeline.ts [runs]   (needs Python with torch + transformers for the BERT export)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "../src/cli/format-table.js";
import { loadConfig } from "../src/config/load-config.js";
import { Model } from "../src/engine/model.js";
import { loadTokenizer } from "../src/pipeline/text/load-tokenizer.js";
import { repoRoot } from "../test/helpers/cli.js";
import { pipelineFixtures } from "../test/helpers/pipeline-fixtures.js";
import { python } from "../test/helpers/python.js";

const runs = Number(process.argv[2] ?? 50);

function smallBert(): string {
  const script = join(repoRoot, "bench", "make_small_bert.py");
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 16);
  const dir = join(repoRoot, "test-output", `small-bert-${hash}`);
  if (!existsSync(join(dir, "gpux.yml"))) {
    const tokenizer = join(pipelineFixtures(), "text-classification");
    const result = spawnSync(python, [script, dir, tokenizer], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr.slice(-2000));
  }
  return dir;
}

interface Timing {
  pre: number[];
  session: number[];
  post: number[];
}

const now = () => performance.now();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function measure(model: Model, request: unknown): Promise<Timing> {
  const timing: Timing = { pre: [], session: [], post: [] };
  for (let i = 0; i < runs + 5; i++) {
    const t0 = now();
    const prepared = await model.pipeline.preprocess(request, model.context);
    const t1 = now();
    const outputs = await model.runFeeds(prepared.feeds);
    const t2 = now();
    model.pipeline.postprocess(outputs, prepared, model.context);
    const t3 = now();
    if (i < 5) continue; // warm-up
    timing.pre.push(t1 - t0);
    timing.session.push(t2 - t1);
    timing.post.push(t3 - t2);
  }
  return timing;
}

const bert = await Model.load(await loadConfig(join(smallBert(), "gpux.yml")));
const tokenizer = loadTokenizer(bert.context);
let sentence = "The quick brown fox jumps over the lazy dog near the university hospital in Berlin";
while (tokenizer.encode(sentence).ids.length < 128) sentence += " and the river runs past Paris café";
const tokens = tokenizer.encode(sentence, undefined, { maxLength: 128 }).ids.length;
const image = await Model.load(await loadConfig(join(repoRoot, "examples", "text-direction", "gpux.yml")));
const png = readFileSync(join(repoRoot, "examples", "text-direction", "samples", "upright.png")).toString(
  "base64",
);

const cases: Array<[string, Model, unknown]> = [
  [`text, batch 1 (${tokens} tokens)`, bert, { text: sentence }],
  [`text, batch 8 (${tokens} tokens each)`, bert, { text: Array.from({ length: 8 }, () => sentence) }],
  ["image 380x64 PNG (text-direction)", image, { image: png }],
];
const rows: string[][] = [];
for (const [name, model, request] of cases) {
  const t = await measure(model, request);
  const [pre, session, post] = [median(t.pre), median(t.session), median(t.post)];
  rows.push([
    name,
    pre.toFixed(3),
    session.toFixed(3),
    post.toFixed(3),
    `${(((pre + post) / session) * 100).toFixed(1)}%`,
  ]);
}
process.stdout.write(
  `runs ${runs} (medians, ms), provider ${bert.provider}\n\n${formatTable(["case", "pre", "session", "post", "(pre+post)/session"], rows)}\n`,
);
await bert.dispose();
await image.dispose();
