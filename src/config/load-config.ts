import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { errorMessage, NotFoundError, UserError } from "../util/errors.js";
import { expandEnv } from "./expand-env.js";
import { configSchema, type GpuxConfig } from "./schema.js";

export interface LoadedConfig {
  config: GpuxConfig;
  /** Absolute path of the gpux.yml. */
  path: string;
  /** Folder that relative paths in the file are resolved against. */
  dir: string;
  /** Absolute path of the ONNX model (model.source resolved against dir). */
  modelPath: string;
  /** Unknown keys and other things worth a warning, each naming file:line:col. */
  warnings: string[];
}

type PathKey = string | number;
type Doc = ReturnType<typeof parseDocument>;

/** Schema paths index inputs/outputs as lists; in a mapping-form file, turn the index back into the key. */
function toDocumentPath(doc: Doc, path: readonly PathKey[]): PathKey[] {
  const out: PathKey[] = [];
  for (const key of path) {
    const node = out.length === 0 ? doc.contents : doc.getIn(out, true);
    if (typeof key === "number" && isMap(node)) {
      const pair = node.items[key];
      out.push(pair && isScalar(pair.key) ? String(pair.key.value) : key);
    } else {
      out.push(key);
    }
  }
  return out;
}

function positionOf(doc: Doc, lines: LineCounter, path: readonly PathKey[]): string {
  // Walk down as far as the path exists: a missing key is reported where its parent is.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : (doc.getIn(path.slice(0, depth), true) as Node | undefined);
    if (node && typeof node === "object" && "range" in node && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return "1:1";
}

function keyPosition(doc: Doc, lines: LineCounter, path: readonly PathKey[], key: string): string {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
    if (pair && isScalar(pair.key) && pair.key.range) {
      const { line, col } = lines.linePos(pair.key.range[0]);
      return `${line}:${col}`;
    }
  }
  return positionOf(doc, lines, path);
}

function formatPath(path: readonly PathKey[]): string {
  return (
    path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("") ||
    "(root)"
  );
}

/** Replace ${VAR} in every string value, reporting unset variables with their position. */
function expandAll(
  value: unknown,
  path: PathKey[],
  onMissing: (path: PathKey[], names: string[]) => void,
): unknown {
  if (typeof value === "string") {
    const { value: expanded, missing } = expandEnv(value);
    if (missing.length > 0) onMissing(path, missing);
    return expanded;
  }
  if (Array.isArray(value)) return value.map((item, i) => expandAll(item, [...path, i], onMissing));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandAll(v, [...path, k], onMissing)]),
    );
  }
  return value;
}

function deleteAt(data: unknown, path: readonly PathKey[], key: string): void {
  let node = data as Record<PathKey, unknown> | undefined;
  for (const step of path) node = node?.[step] as Record<PathKey, unknown> | undefined;
  if (node && typeof node === "object") delete node[key];
}

/** Accepted for compatibility with the earlier gpux but without effect (documented as reserved). */
const reservedFields: readonly (readonly string[])[] = [
  ["runtime", "batch_size"],
  ["preprocessing", "custom"],
];

function reservedWarnings(doc: Doc, lines: LineCounter, file: string): string[] {
  return reservedFields
    .filter((path) => doc.hasIn(path))
    .map(
      (path) =>
        `${file}:${keyPosition(doc, lines, path.slice(0, -1), path[path.length - 1] as string)} ${path.join(".")} is reserved and has no effect (see docs/reference/gpux-yml.md)`,
    );
}

/**
 * Aliases one gpux.yml may expand: far more than a config needs, far fewer than a "billion laughs" file whose
 * nested aliases would expand to gigabytes (the yaml library refuses past this count).
 */
const maxAliasCount = 100;

/** The document as plain data; a file that expands aliases without bound is a config error, not a crash. */
function plainData(doc: Doc, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount });
  } catch (error) {
    throw new UserError(`${file}: too many YAML alias expansions (${(error as Error).message}).`, {
      hint: `Write the values out; a gpux.yml may expand at most ${maxAliasCount} aliases (*name).`,
    });
  }
}

/** Parse gpux.yml text. `file` is used in messages only. */
export function parseConfigText(text: string, file = "gpux.yml"): { config: GpuxConfig; warnings: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const pos = first ? lines.linePos(first.pos[0]) : { line: 1, col: 1 };
    throw new UserError(`${file}:${pos.line}:${pos.col} invalid YAML: ${first?.message.split("\n")[0]}`, {
      hint: "Fix the YAML syntax (indentation, quotes, colons) at that line.",
    });
  }
  if (!isMap(doc.contents)) {
    throw new UserError(`${file}:1:1 expected a mapping of fields (name, model, inputs, …).`, {
      hint: "See docs/reference/gpux-yml.md for an example.",
    });
  }
  const errors: string[] = [];
  let data = expandAll(plainData(doc, file), [], (path, names) => {
    errors.push(
      `${file}:${positionOf(doc, lines, path)} ${formatPath(path)}: environment variable ${names.join(", ")} is not set (write \${${names[0]}:-default} for a default)`,
    );
  });
  const warnings = reservedWarnings(doc, lines, file);
  for (let pass = 0; pass < 10; pass++) {
    const result = configSchema.safeParse(data);
    if (result.success && errors.length === 0) return { config: result.data, warnings: byPosition(warnings) };
    const issues: z.core.$ZodIssue[] = result.success ? [] : result.error.issues;
    const unknown = issues.filter((issue) => issue.code === "unrecognized_keys");
    const real = issues.filter((issue) => issue.code !== "unrecognized_keys");
    for (const issue of real) {
      const path = toDocumentPath(doc, issue.path as PathKey[]);
      errors.push(`${file}:${positionOf(doc, lines, path)} ${formatPath(path)}: ${describeIssue(issue)}`);
    }
    if (errors.length > 0) {
      throw new UserError(errors.join("\n"), {
        hint: "Fix the fields above; see docs/reference/gpux-yml.md.",
      });
    }
    data = structuredClone(data);
    for (const issue of unknown) {
      if (issue.code !== "unrecognized_keys") continue;
      const path = issue.path as PathKey[];
      const docPath = toDocumentPath(doc, path);
      for (const key of issue.keys) {
        warnings.push(
          `${file}:${keyPosition(doc, lines, docPath, key)} unknown field ${formatPath([...docPath, key])} is ignored (typo?)`,
        );
        deleteAt(data, docPath, key);
      }
    }
  }
  throw new UserError(`${file}: could not validate the configuration.`);
}

/** Sort `file:line:col message` lines by line, then column. */
function byPosition(messages: string[]): string[] {
  const key = (message: string) => {
    const match = /:(\d+):(\d+) /.exec(message);
    return match ? Number(match[1]) * 1e6 + Number(match[2]) : 0;
  };
  return [...messages].sort((a, b) => key(a) - key(b));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message))
    return "required field is missing";
  if (issue.code === "invalid_union")
    return "has the wrong form (see docs/reference/gpux-yml.md for the accepted forms)";
  return issue.message.replace(/^Invalid input: /, "").replace(/^Invalid option: /, "");
}

/** Read and validate a gpux.yml file. */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw new NotFoundError(`Cannot read config '${path}': ${errorMessage(error)}`, {
      hint: "Pass the folder that holds gpux.yml, or -c path/to/gpux.yml.",
      cause: error,
    });
  }
  const { config, warnings } = parseConfigText(text, path);
  const dir = dirname(absolute);
  return { config, path: absolute, dir, modelPath: resolve(dir, config.model.source), warnings };
}
