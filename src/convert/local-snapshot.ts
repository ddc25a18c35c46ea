import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Snapshot } from "./converter.js";

async function listFiles(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    // .git, .gpux (conversion output), .cache: never part of the model
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else if (entry.isFile() || entry.isSymbolicLink()) files.push(relative(root, path).split(sep).join("/"));
  }
  return files.sort();
}

/** The pipeline_tag from a model card's YAML front matter, if any. */
async function pipelineTagFromCard(dir: string, files: readonly string[]): Promise<string | undefined> {
  if (!files.includes("README.md")) return undefined;
  const card = await readFile(join(dir, "README.md"), "utf8");
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(card)?.[1];
  return front ? /^pipeline_tag:\s*["']?([\w-]+)["']?\s*$/m.exec(front)?.[1] : undefined;
}

/** A local checkpoint folder as a Snapshot (hidden folders such as .gpux are skipped). */
export async function snapshotFromFolder(dir: string): Promise<Snapshot> {
  const files = await listFiles(dir);
  return { dir, files, pipelineTag: await pipelineTagFromCard(dir, files) };
}
