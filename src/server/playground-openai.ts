/**
 * Playground views over the OpenAI-compatible routes: a similarity view for embedding models (the cosine
 * matrix of two or more texts, from POST /v1/embeddings) and a ranking view for cross-encoders (a query and
 * documents, from POST /v1/rerank). Browser code, embedded in the page as text after the page's `el`
 * helper; it defines `window.gpuxExtraViews(info, headers, pipeline)`, which the page calls for each model
 * (with its task's pipeline, from the task table) and which returns the view's element or null.
 */

export const playgroundOpenAiStyle = `
.matrix{border-collapse:collapse;margin-top:8px}.matrix td,.matrix th{border:1px solid #dde1e8;padding:4px 8px;text-align:right;font:13px ui-monospace,monospace}
.matrix th{background:#f2f4f7;max-width:180px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ranking li{margin:4px 0}.ranking .bar div{background:#12a150}
`;

export const playgroundOpenAiScript = `
(() => {
  const lines = (text) => text.split("\\n").map((s) => s.trim()).filter((s) => s.length > 0);
  async function post(path, body, headers) {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers() }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) throw new Error(answer.error ? answer.error.message : "HTTP " + res.status);
    return answer;
  }
  const cosine = (a, b) => { let d = 0, na = 0, nb = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; } return d / Math.max(Math.sqrt(na * nb), 1e-12); };
  const shade = (x) => "background:rgba(47,111,237," + Math.max(0, Math.min(1, x)).toFixed(3) * 0.6 + ")";

  function section(title, form, run) {
    const out = el("div", { className: "result" });
    const status = el("p", { className: "meta" });
    const button = el("button", { type: "submit", textContent: title });
    form.append(button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "running…";
      out.replaceChildren();
      const start = performance.now();
      try { await run(out); status.textContent = "latency " + (performance.now() - start).toFixed(1) + " ms"; }
      catch (error) { status.textContent = ""; out.append(el("p", { className: "error", textContent: String(error.message || error) })); }
    });
    return el("div", {}, form, status, out);
  }

  function similarityView(info, headers) {
    const texts = el("textarea", { name: "texts", rows: 4, value: "gpux serves models.\\ngpux runs models locally.\\nThe weather is nice today." });
    const form = el("form", { className: "similarity" }, el("h3", { textContent: "Similarity (POST /v1/embeddings)" }), el("label", { textContent: "Texts, one per line (two or more)" }), texts);
    return section("Compare", form, async (out) => {
      const input = lines(texts.value);
      if (input.length < 2) throw new Error("Write two or more texts, one per line.");
      const answer = await post("/v1/embeddings", { model: info.name, input }, headers);
      const vectors = answer.data.map((d) => d.embedding);
      const head = el("tr", {}, el("th", { textContent: "" }), ...input.map((t, j) => el("th", { textContent: "#" + (j + 1), title: t })));
      const rows = input.map((t, i) => el("tr", {}, el("th", { textContent: "#" + (i + 1) + " " + t, title: t }), ...vectors.map((v, j) => { const c = cosine(vectors[i], v); return el("td", { textContent: c.toFixed(4), style: shade(c) }); })));
      out.append(el("table", { className: "matrix cosine-matrix" }, head, ...rows), el("p", { className: "meta", textContent: answer.usage.prompt_tokens + " tokens · " + vectors[0].length + " dimensions · cosine similarity" }));
    });
  }

  function rerankView(info, headers) {
    const query = el("input", { type: "text", name: "query", value: "Which tool serves models?" });
    const documents = el("textarea", { name: "documents", rows: 4, value: "gpux serves ONNX models over HTTP.\\nBananas are yellow.\\nA server answers requests." });
    const form = el("form", { className: "rerank" }, el("h3", { textContent: "Rerank (POST /v1/rerank)" }), el("label", { textContent: "Query" }), query, el("label", { textContent: "Documents, one per line" }), documents);
    return section("Rank", form, async (out) => {
      const answer = await post("/v1/rerank", { model: info.name, query: query.value, documents: lines(documents.value), return_documents: true }, headers);
      const max = Math.max(...answer.results.map((r) => Math.abs(r.relevance_score)), 1e-12);
      out.append(el("ol", { className: "ranking" }, ...answer.results.map((r) => el("li", {}, el("div", { className: "bar" }, el("span", { textContent: r.document.text, title: r.document.text }), el("div", { style: "width:" + (Math.abs(r.relevance_score) / max) * 300 + "px" }), el("em", { textContent: r.relevance_score.toFixed(4) + " (#" + (r.index + 1) + ")" }))))));
    });
  }

  // A cross-encoder is a text classifier with one score per (query, document) pair.
  const isCrossEncoder = (info) => info.task === "text-classification" && info.outputs.length > 0 && (info.outputs[0].shape || []).at(-1) === 1;
  window.gpuxExtraViews = (info, headers, pipeline) =>
    pipeline === "embedding" ? similarityView(info, headers) : isCrossEncoder(info) ? rerankView(info, headers) : null;
})();
`;
