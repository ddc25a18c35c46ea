/** Helpers for server tests: model folders from built graphs, an in-process server on 127.0.0.1, JSON calls. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { resolveModelRef } from "../../src/app/resolve.js";
import { type RunningServer, type ServeOptions, serveModels } from "../../src/server/serve-models.js";
import { buildOnnxModel, type ModelSpec } from "./onnx-builder.js";

/** A folder holding model.onnx and, when given, a gpux.yml. */
export function writeModelFolder(parent: string, name: string, spec: ModelSpec, yaml?: string): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.onnx"), buildOnnxModel(spec));
  if (yaml !== undefined) writeFileSync(join(dir, "gpux.yml"), yaml);
  return dir;
}

/** Serve model folders on a free port of 127.0.0.1; closed when the test file ends. */
export async function startServer(dirs: string[], options: ServeOptions = {}): Promise<RunningServer> {
  const loaded = await Promise.all(dirs.map((dir) => resolveModelRef(dir)));
  const server = await serveModels(loaded, { port: 0, ...options });
  after(() => server.close());
  await server.ready.catch(() => undefined);
  return server;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
  headers: Headers;
  ms: number;
}

/** Call the server and parse a JSON answer (an empty body is undefined). */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<JsonAnswer> {
  const start = performance.now();
  const hasBody = init.body !== undefined || init.raw !== undefined;
  const response = await fetch(url, {
    method: init.method ?? (hasBody ? "POST" : "GET"),
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...init.headers },
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await response.text();
  const ms = performance.now() - start;
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (metrics, the playground page): keep the text
  }
  return { status: response.status, body, headers: response.headers, ms };
}

/** y = x + 1 on float32 [batch, 4]: answers are easy to check per request. */
export const addOneSpec: ModelSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: ["batch", 4] }],
  outputs: [{ name: "y", dtype: "float32", shape: ["batch", 4] }],
  nodes: [{ op: "Add", inputs: ["x", "one"], outputs: ["y"] }],
  initializers: [{ name: "one", dtype: "float32", dims: [1], values: [1] }],
};

/**
 * A deliberately slow graph: x float32 [batch, 256] is tiled `repeats` times and pushed through `matmuls`
 * 256×256 matrix products, then averaged back to [batch, 256] (y = x, as w averages).
 */
export function slowModelSpec(matmuls: number, repeats = 1024): ModelSpec {
  const nodes: ModelSpec["nodes"] = [{ op: "Tile", inputs: ["x", "repeats"], outputs: ["t0"] }];
  for (let i = 0; i < matmuls; i++)
    nodes.push({ op: "MatMul", inputs: [`t${i}`, "w"], outputs: [`t${i + 1}`] });
  nodes.push(
    { op: "Reshape", inputs: [`t${matmuls}`, "shape"], outputs: ["r"] },
    { op: "ReduceMean", inputs: ["r"], outputs: ["y"], attributes: { axes: [0], keepdims: 0 } },
  );
  return {
    inputs: [{ name: "x", dtype: "float32", shape: ["batch", 256] }],
    outputs: [{ name: "y", dtype: "float32", shape: ["batch", 256] }],
    nodes,
    initializers: [
      { name: "repeats", dtype: "int64", dims: [2], values: [repeats, 1] },
      { name: "shape", dtype: "int64", dims: [3], values: [repeats, -1, 256] },
      { name: "w", dtype: "float32", dims: [256, 256], values: new Array(256 * 256).fill(1 / 256) },
    ],
    opset: 17,
  };
}

/** A request row for the slow model. */
export const slowRequest = { x: [new Array(256).fill(1)] };
