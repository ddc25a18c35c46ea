import { createHash } from "node:crypto";

/** The conversion options that change what a store entry holds; anything else (progress…) does not. */
export interface EntryOptions {
  /** ONNX variant taken from the repo; default fp32. */
  variant?: string;
  /** Task the converter exported; default from the repo. */
  task?: string;
  opset?: number;
  atol?: number;
  optimize?: boolean;
}

const defaults: Required<Pick<EntryOptions, "variant">> = { variant: "fp32" };

/** The options as stored in the manifest: defaults dropped, keys sorted, so equal options compare equal. */
export function canonicalOptions(options: EntryOptions): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key of ["atol", "opset", "optimize", "task", "variant"] as const) {
    const value = options[key];
    if (value === undefined || value === false) continue;
    if (key === "variant" && value === defaults.variant) continue;
    out[key] = value;
  }
  return out;
}

/**
 * The suffix of a store entry folder for these options: "" for the defaults (the folder is just the commit),
 * else a readable slug such as `variant-fp16`, or `o-<hash>` when the slug would be long or unsafe.
 */
export function entryKey(options: EntryOptions): string {
  const canonical = canonicalOptions(options);
  const slug = Object.entries(canonical)
    .map(([key, value]) => `${key}-${value}`)
    .join("_");
  if (slug === "" || (slug.length <= 48 && /^[A-Za-z0-9._-]+$/.test(slug))) return slug;
  return `o-${createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 16)}`;
}
