import type { PulledDescription } from "../store/describe-pulled.js";
import { formatBytes } from "./format-bytes.js";
import { formatTable } from "./format-table.js";

/** The "pulled from" block of `gpux inspect`: registry, revision, commit and the verified files. */
export function formatPulled(p: PulledDescription): string {
  const options = Object.entries(p.options).map(([k, v]) => `${k}=${v}`);
  const lines = [
    "",
    "pulled:",
    `  registry:   ${p.registry} (${p.source})`,
    `  repo:       ${p.repo}`,
    `  revision:   ${p.revisions.join(", ")}${options.length ? ` (${options.join(" ")})` : ""}`,
    `  commit:     ${p.commit}`,
    `  pulled at:  ${p.pulled_at}`,
    "",
    formatTable(
      ["  file", "size", "sha256"],
      p.files.map((f) => [`  ${f.path}`, formatBytes(f.size), f.sha256.slice(0, 16)]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}
