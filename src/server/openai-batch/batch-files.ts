import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { OpenAiRequestError } from "../openai-error.js";

/** What GET /v1/files/{id} answers: OpenAI's file object. */
export interface OpenAiFile {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  /** "batch" for uploads; "batch_output" for the output and error files gpux writes. */
  purpose: "batch" | "batch_output";
  status: "processed";
}

const fileIdPattern = /^file-[0-9a-f]{24}$/;

export const newId = (prefix: string) => `${prefix}${randomBytes(12).toString("hex")}`;
export const nowSeconds = () => Math.floor(Date.now() / 1000);

function notFound(id: string): OpenAiRequestError {
  return new OpenAiRequestError(`No such File object: ${id}`, {
    param: "file_id",
    code: "not_found",
    status: 404,
    hint: "GET /v1/files lists the files this server holds.",
  });
}

/**
 * The files of the Batch API, one folder: `<id>` holds the bytes and `<id>.json` the file object. A file is
 * listed only once both are in place (bytes first, then the object, each written whole), so an upload cut
 * short or a crash mid-write never leaves a file that looks complete.
 */
export class BatchFiles {
  constructor(private readonly dir: string) {}

  /** Where a file's bytes are (the id checked, so no request names a path). */
  contentPath(id: string): string {
    if (!fileIdPattern.test(id)) throw notFound(id);
    return join(this.dir, id);
  }

  private async write(
    source: (temp: string) => Promise<void>,
    meta: Pick<OpenAiFile, "filename" | "purpose">,
  ): Promise<OpenAiFile> {
    await mkdir(this.dir, { recursive: true });
    const id = newId("file-");
    const temp = join(this.dir, `${id}.partial`);
    try {
      await source(temp);
      const { size } = await stat(temp);
      await rename(temp, join(this.dir, id));
      const file: OpenAiFile = {
        id,
        object: "file",
        bytes: size,
        created_at: nowSeconds(),
        filename: meta.filename,
        purpose: meta.purpose,
        status: "processed",
      };
      await writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify(file));
      return file;
    } catch (error) {
      await rm(temp, { force: true });
      await rm(join(this.dir, id), { force: true });
      throw error;
    }
  }

  /** Store an upload's bytes as they arrive (never whole in memory). */
  save(stream: Readable, meta: Pick<OpenAiFile, "filename" | "purpose">): Promise<OpenAiFile> {
    return this.write((temp) => pipeline(stream, createWriteStream(temp)), meta);
  }

  /** Register a file gpux wrote itself (a batch's output), moved in whole. */
  adopt(path: string, meta: Pick<OpenAiFile, "filename" | "purpose">): Promise<OpenAiFile> {
    return this.write((temp) => rename(path, temp), meta);
  }

  async get(id: string): Promise<OpenAiFile> {
    this.contentPath(id);
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), "utf8")) as OpenAiFile;
    } catch {
      throw notFound(id);
    }
  }

  async list(): Promise<OpenAiFile[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names.filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5));
    const files = await Promise.all(ids.filter((id) => fileIdPattern.test(id)).map((id) => this.get(id)));
    return files.sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await rm(join(this.dir, `${id}.json`));
    await rm(this.contentPath(id), { force: true });
  }

  /** Remove uploads cut short by a crash (their object was never written). */
  async sweep(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => name.endsWith(".partial"))
        .map((name) => rm(join(this.dir, name), { force: true })),
    );
  }
}
