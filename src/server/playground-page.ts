/**
 * The playground: one self-contained HTML page (no external assets, nothing read from disk) that builds a
 * form from each model's /info, sends it to /predict, and shows labels as bars, embeddings as a summary,
 * anything else as JSON, with the measured latency. Text-generation models get the chat view instead
 * (playground-chat.ts); embedding and rerank models get a view over /v1 beside the form (playground-openai.ts).
 */

import { taskTable } from "../tasks.js";
import { playgroundChatScript, playgroundChatStyle } from "./playground-chat.js";
import { playgroundOpenAiScript, playgroundOpenAiStyle } from "./playground-openai.js";

/** The page's Content-Security-Policy: its own inline script and style, requests to this server only. */
export const playgroundContentSecurityPolicy =
  "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:";

/** Runs first: the one element builder every view's script uses, `el(tag, props, ...children)`. */
const domHelper = `const el = (tag, props = {}, ...children) => { const n = Object.assign(document.createElement(tag), props); n.append(...children); return n; };`;

const style = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0}
main{max-width:880px;margin:20px auto;padding:0 16px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px;margin-bottom:16px}
label{display:block;font-weight:600;margin:8px 0 4px}
textarea,input[type=text],select{width:100%;box-sizing:border-box;font:14px ui-monospace,monospace;padding:6px}
button{background:#2f6fed;color:#fff;border:0;border-radius:6px;padding:8px 18px;font-size:15px;margin-top:10px;cursor:pointer}
.meta{color:#5b6475;font-size:13px}.error{color:#b42318;white-space:pre-wrap}
.bar{display:flex;align-items:center;gap:8px;margin:4px 0}.bar span{width:140px;overflow:hidden;text-overflow:ellipsis}
.bar div{background:#2f6fed;height:14px;border-radius:3px}pre{background:#f2f4f7;padding:8px;overflow:auto;max-height:320px}
`;

const script = `
const models = JSON.parse(document.getElementById("models").textContent);
const textTasks = ${JSON.stringify(taskTable.filter((task) => task.text).map((task) => task.name))};
const pairTasks = ${JSON.stringify(taskTable.filter((task) => task.textPair).map((task) => task.name))};
const pipelineOf = ${JSON.stringify(Object.fromEntries(taskTable.map((task) => [task.name, task.pipeline])))};
const keyInput = el("input", { type: "text", id: "api-key", placeholder: "API key" });
// One key for the whole server: a single bar above the models, which loads again every section refused.
const refused = new Map();
const keyForm = el("form", {}, el("label", { textContent: "This server needs an API key" }), keyInput, el("button", { type: "submit", textContent: "Load" }));
const keyBar = el("section", { id: "auth", hidden: true }, keyForm);
keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  for (const [name, root] of refused) { refused.delete(name); root.replaceChildren(); showSection(name, root); }
});

function example(inputs) {
  const body = {};
  for (const spec of inputs) {
    const shape = (spec.shape || [1]).map((d) => (typeof d === "number" && d >= 0 ? d : 1));
    const size = shape.reduce((a, b) => a * b, 1);
    const zero = spec.dtype === "string" ? "" : spec.dtype === "bool" ? false : 0;
    body[spec.name] = { shape, data: new Array(size).fill(zero) };
  }
  return JSON.stringify(body);
}

function labelScores(result) {
  if (Array.isArray(result) && result.length && result.every((r) => r && typeof r === "object" && "label" in r && "score" in r)) return result;
  if (result && typeof result === "object" && "label" in result && "score" in result) return [result];
  return undefined;
}

function rawLabelled(result, info) {
  for (const out of info.outputs) {
    const row = result && result[out.name];
    const flat = Array.isArray(row) ? row.flat(Infinity) : undefined;
    if (out.labels && flat && flat.length === out.labels.length) return out.labels.map((label, i) => ({ label, score: flat[i] }));
  }
  return undefined;
}

function embedding(result) {
  let v = result && !Array.isArray(result) && typeof result === "object" ? result.embedding || result.embeddings : result;
  while (Array.isArray(v) && v.length === 1 && Array.isArray(v[0])) v = v[0];
  return Array.isArray(v) && v.length >= 8 && v.every((x) => typeof x === "number") ? v : undefined;
}

function render(target, result, info) {
  target.replaceChildren();
  const labels = labelScores(result) || rawLabelled(result, info);
  if (labels) {
    for (const { label, score } of labels) {
      const pct = Math.max(0, Math.min(1, Number(score))) * 100;
      target.append(el("div", { className: "bar" }, el("span", { textContent: String(label) }), el("div", { style: "width:" + pct * 3 + "px" }), el("em", { textContent: Number(score).toFixed(4) })));
    }
  }
  const vec = embedding(result);
  if (vec) {
    const norm = Math.sqrt(vec.reduce((s, x) => s + x * x, 0));
    target.append(el("p", { className: "embedding", textContent: "embedding: " + vec.length + " dims, L2 norm " + norm.toFixed(4) + ", first values " + vec.slice(0, 6).map((x) => x.toFixed(4)).join(", ") }));
  }
  target.append(el("pre", { textContent: JSON.stringify(result, null, 2).slice(0, 20000) }));
}

async function showModel(name, root) {
  const headers = () => (keyInput.value ? { authorization: "Bearer " + keyInput.value } : {});
  const response = await fetch("/info/" + encodeURIComponent(name), { headers: headers() });
  const info = await response.json();
  if (response.status === 401) {
    keyBar.hidden = false;
    refused.set(name, root);
    root.append(el("h2", { textContent: name }), el("p", { className: "error", textContent: info.error + " Enter the server's API key above." }));
    return;
  }
  if (info.error) { root.append(el("p", { className: "error", textContent: info.error })); return; }
  const pipeline = pipelineOf[info.task] || "raw";
  // A generator's inputs are token ids and its cache, nothing a person sends: no list, and the chat view
  // in place of the /predict form.
  const inputs = pipeline === "text-generation" ? "" : " · inputs: " + info.inputs.map((i) => i.name + " " + i.dtype + " [" + (i.shape || []).join(",") + "]").join("; ");
  root.append(el("h2", { textContent: info.name }), el("p", { className: "meta", textContent: (info.description ? info.description + " " : "") + "task: " + info.task + " · provider: " + info.provider + inputs }));
  if (pipeline === "text-generation") { root.append(window.gpuxChatView(info, headers)); return; }
  const form = el("form");
  let build;
  if (textTasks.includes(info.task)) {
    const text = el("textarea", { name: "text", rows: 3, value: "gpux makes serving models easy." });
    form.append(el("label", { textContent: "Text" }), text);
    let pair;
    if (pairTasks.includes(info.task)) { pair = el("textarea", { name: "text_pair", rows: 3 }); form.append(el("label", { textContent: "Text pair" }), pair); }
    build = async () => (pair && pair.value ? { text: text.value, text_pair: pair.value } : { text: text.value });
  } else if (info.task === "image-classification") {
    const file = el("input", { type: "file", name: "image", accept: "image/*" });
    form.append(el("label", { textContent: "Image" }), file);
    build = () => new Promise((resolve, reject) => { const f = file.files[0]; if (!f) return reject(new Error("Choose an image first.")); const r = new FileReader(); r.onload = () => resolve({ image: r.result }); r.onerror = reject; r.readAsDataURL(f); });
  } else {
    const raw = el("textarea", { name: "json", rows: 6, value: example(info.inputs) });
    form.append(el("label", { textContent: "Request JSON (input name → {shape, data} or nested arrays)" }), raw);
    build = async () => JSON.parse(raw.value);
  }
  const latency = el("p", { className: "meta latency" });
  const output = el("div", { className: "result" });
  form.append(el("button", { type: "submit", textContent: "Run" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.replaceChildren(el("p", { className: "meta", textContent: "running…" }));
    try {
      const body = JSON.stringify(await build());
      const start = performance.now();
      const res = await fetch("/predict/" + encodeURIComponent(name), { method: "POST", headers: { "content-type": "application/json", ...headers() }, body });
      const ms = performance.now() - start;
      const answer = await res.json();
      const timing = res.headers.get("server-timing") || "";
      latency.textContent = "latency " + ms.toFixed(1) + " ms (HTTP " + res.status + ")" + (timing ? " · server " + timing : "");
      if (!res.ok) { output.replaceChildren(el("p", { className: "error", textContent: answer.error + (answer.hint ? "\\n" + answer.hint : "") })); return; }
      render(output, answer, info);
    } catch (error) {
      output.replaceChildren(el("p", { className: "error", textContent: String(error.message || error) }));
    }
  });
  root.append(form, latency, output);
  const extra = window.gpuxExtraViews(info, headers, pipeline);
  if (extra) root.append(extra);
}

document.querySelector("main").append(keyBar);
function showSection(name, root) {
  showModel(name, root).catch((error) => root.append(el("p", { className: "error", textContent: "Could not load " + name + ": " + String(error.message || error) })));
}

for (const name of models) { const section = el("section", { id: "model-" + name }); document.querySelector("main").append(section); showSection(name, section); }
`;

/** The page for the given model names; names are embedded as escaped JSON, never as HTML. */
export function playgroundPage(modelNames: readonly string[]): string {
  const models = JSON.stringify(modelNames).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>gpux playground</title><style>${style}${playgroundOpenAiStyle}${playgroundChatStyle}</style></head>
<body><header><h1>gpux playground</h1></header><main></main>
<script type="application/json" id="models">${models}</script>
<script>${domHelper}</script>
<script>${playgroundOpenAiScript}</script>
<script>${playgroundChatScript}</script>
<script>${script}</script></body></html>`;
}
