import { readManifest } from "./manifest.js";

/** What `gpux inspect` shows about where a pulled model came from. */
export interface PulledDescription {
  registry: string;
  repo: string;
  revisions: string[];
  commit: string;
  source: string;
  pulled_at: string;
  options: Record<string, string | number | boolean>;
  files: Array<{ path: string; size: number; sha256: string }>;
}

/** The pull record of the model whose gpux.yml is in `dir`; undefined for models that were not pulled. */
export async function describePulled(dir: string): Promise<PulledDescription | undefined> {
  const m = await readManifest(dir);
  if (!m) return undefined;
  return {
    registry: m.registry,
    repo: m.repoId,
    revisions: m.revisions,
    commit: m.commit,
    source: m.source,
    pulled_at: m.pulledAt,
    options: m.options,
    files: m.files,
  };
}
