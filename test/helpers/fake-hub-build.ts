/** A fake-hub repo with the ids the Hub would give it: git blob oids, LFS sha256 for large files, a commit sha. */
import { createHash } from "node:crypto";
import type { FakeRepo } from "./fake-hub.js";

export interface Built {
  repo: FakeRepo;
  commit: string;
  files: Map<string, { content: Buffer; oid: string; sha256: string; lfs: boolean }>;
}

/** Files the Hub stores in LFS (by name), besides any over 1 MiB. */
const lfsPattern = /\.(onnx|onnx_data|data|safetensors|bin|h5|msgpack|pt|pth|ot|model)$/;

export function buildRepo(repo: FakeRepo): Built {
  const files = new Map<string, { content: Buffer; oid: string; sha256: string; lfs: boolean }>();
  for (const [path, raw] of Object.entries(repo.files)) {
    const content = Buffer.from(raw);
    const sha256 = createHash("sha256").update(content).digest("hex");
    const lfs = lfsPattern.test(path) || content.length >= 1 << 20;
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`;
    const gitContent = lfs ? Buffer.from(pointer) : content;
    const oid = createHash("sha1").update(`blob ${gitContent.length}\0`).update(gitContent).digest("hex");
    files.set(path, { content, oid, sha256, lfs });
  }
  const commit = createHash("sha1")
    .update(repo.id)
    .update([...files].map(([path, f]) => `${path}:${f.oid}`).join("\n"))
    .digest("hex");
  return { repo, commit, files };
}
