import { RuntimeFailure } from "../../util/errors.js";
import type { ModelRef, RemoteFile, RemoteModel } from "../registry.js";
import { assertSafeRepoPath, isHex } from "../safe-repo-path.js";
import { hubHttpError } from "./hub-errors.js";
import { createHubFetch } from "./hub-fetch.js";
import type { HubSettings } from "./hub-settings.js";
import { isHubRepoId } from "./parse-hub-ref.js";

/**
 * @huggingface/hub (and the hashing code it brings, ~0.5 MB of JavaScript), loaded by the first Hub call:
 * every command that reads the registry table (push, rm, a pull from an OCI registry or a URL) would otherwise
 * compile it at start-up without calling the Hub.
 */
const loadHub = () => import("@huggingface/hub");
type HubModule = Awaited<ReturnType<typeof loadHub>>;

/** Calls to the Hub's JSON API (through @huggingface/hub), with gpux's errors and checks on every answer. */
export class HubApi {
  private readonly fetch: typeof fetch;
  private lastErrorCode: string | undefined;

  constructor(private readonly settings: HubSettings) {
    const hubFetch = createHubFetch({ endpoint: settings.endpoint, token: settings.token });
    this.fetch = async (input, init) => {
      const response = await hubFetch(input, init);
      this.lastErrorCode = response.headers.get("x-error-code") ?? undefined;
      const type = response.headers.get("content-type") ?? "";
      if (response.ok && !type.includes("json")) {
        await response.body?.cancel();
        throw new RuntimeFailure(
          `The Hub at ${settings.endpoint} answered ${type || "no content type"} where JSON was expected (${response.url}).`,
          { hint: "HF_ENDPOINT may point at a web page or a proxy login, not a Hub; check it." },
        );
      }
      return response;
    };
  }

  private translate(error: unknown, hub: HubModule, ref: ModelRef, revision: string): never {
    if (error instanceof hub.HubApiError) {
      throw hubHttpError(error.statusCode, {
        repoId: ref.repoId,
        revision,
        endpoint: this.settings.endpoint,
        hasToken: Boolean(this.settings.token),
        errorCode: this.lastErrorCode,
      });
    }
    if (error instanceof SyntaxError) {
      throw new RuntimeFailure(
        `The Hub at ${this.settings.endpoint} sent malformed JSON for '${ref.repoId}'.`,
        {
          hint: "HF_ENDPOINT may not be a Hub, or a proxy mangled the answer.",
          cause: error,
        },
      );
    }
    throw error;
  }

  /** Revision → commit, canonical id and pipeline tag, in one request. */
  async resolveRevision(ref: ModelRef): Promise<RemoteModel> {
    const revision = ref.revision ?? "main";
    const hub = await loadHub();
    try {
      const info = await hub.modelInfo({
        name: ref.repoId,
        hubUrl: this.settings.endpoint,
        revision,
        additionalFields: ["sha"],
        fetch: this.fetch,
      });
      if (!isHex(info.sha, 40) || typeof info.name !== "string") {
        throw new RuntimeFailure(
          `The Hub's answer for '${ref.repoId}@${revision}' has no valid commit sha.`,
          {
            hint: "HF_ENDPOINT may not be a Hugging Face Hub; check it.",
          },
        );
      }
      // The answer names the cache folder and the store entry: only the id asked for (the Hub's own spelling
      // of it) is taken, so a hostile mirror cannot plant another repo's files under that repo's name.
      if (!isHubRepoId(info.name) || info.name.toLowerCase() !== ref.repoId.toLowerCase()) {
        throw new RuntimeFailure(
          `The Hub answered ${JSON.stringify(info.name)} when asked for '${ref.repoId}'; gpux refuses it.`,
          { hint: "The mirror in HF_ENDPOINT is broken or hostile; nothing was written." },
        );
      }
      return { ref, repoId: info.name, revision, commit: info.sha, pipelineTag: info.task ?? undefined };
    } catch (error) {
      this.translate(error, hub, ref, revision);
    }
  }

  /** Every file of a commit with size, git oid and LFS sha256; refuses unsafe names. */
  async listFiles(remote: RemoteModel): Promise<RemoteFile[]> {
    const files: RemoteFile[] = [];
    const hub = await loadHub();
    try {
      for await (const entry of hub.listFiles({
        repo: remote.repoId,
        revision: remote.commit,
        recursive: true,
        hubUrl: this.settings.endpoint,
        fetch: this.fetch,
      })) {
        if (entry.type !== "file") continue;
        assertSafeRepoPath(entry.path, remote.repoId);
        const lfsSha = entry.lfs?.oid;
        if (
          !Number.isSafeInteger(entry.size) ||
          entry.size < 0 ||
          (lfsSha !== undefined && !isHex(lfsSha, 64))
        ) {
          throw new RuntimeFailure(
            `The Hub listed '${entry.path}' of '${remote.repoId}' with an invalid size or digest.`,
            {
              hint: "The mirror in HF_ENDPOINT is broken; nothing was written.",
            },
          );
        }
        files.push({
          path: entry.path,
          size: entry.lfs?.size ?? entry.size,
          oid: isHex(entry.oid, 40) ? entry.oid : undefined,
          lfsSha256: lfsSha,
        });
      }
    } catch (error) {
      this.translate(error, hub, remote.ref, remote.revision);
    }
    return files;
  }
}
