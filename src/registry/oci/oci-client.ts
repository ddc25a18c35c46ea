import { createHash } from "node:crypto";
import { type HttpAnswer, type RequestBody, readBodyBytes } from "../../net/http-request.js";
import { RuntimeFailure, UserError } from "../../util/errors.js";
import { acceptedManifests } from "./media-types.js";
import { finish, isOk, maxJsonBytes, OciSession } from "./oci-session.js";

export type { OciClientOptions, RequestOptions } from "./oci-session.js";

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  /** `sha256:<hex>` of the bytes. */
  digest: string;
}

const sha256Of = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * Silence allowed after a blob's last byte was sent, while the registry checks its digest and moves it into
 * place (a registry that hashes the blob again takes seconds per GB): fetch's default, which pushes used before.
 */
const uploadAnswerTimeoutMs = 300_000;

/**
 * One registry's Distribution API v2 (over OciSession's requests): manifests, blob existence, uploads (with
 * cross-repository mounts), the catalog and tags.
 */
export class OciClient extends OciSession {
  /** A small JSON answer's body, parsed; `{}` when it is not JSON. */
  private async json(answer: HttpAnswer): Promise<Record<string, unknown>> {
    const bytes = await readBodyBytes(answer, maxJsonBytes);
    try {
      return JSON.parse(bytes?.toString("utf8") ?? "") as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  /** `GET /v2/`: the registry is there and takes these credentials (what `gpux login` checks). */
  async ping(): Promise<void> {
    await finish(await this.request("GET", "/v2/", { what: "the API root /v2/" }));
  }

  /** A manifest (or index) by tag or digest, its digest checked when the reference pins one. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const answer = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: acceptedManifests.join(", ") },
      what: `the manifest ${repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`,
    });
    const bytes = await readBodyBytes(answer, 4 << 20);
    if (!bytes) {
      throw new RuntimeFailure(`The manifest of ${repository} is larger than 4 MiB.`, {
        hint: "That is not a model manifest; check the reference.",
      });
    }
    const digest = sha256Of(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RuntimeFailure(
        `${this.host} answered a manifest whose digest is ${digest}, not ${reference}.`,
        {
          hint: "The registry or a proxy altered the manifest; nothing was registered.",
        },
      );
    }
    const mediaType = (answer.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
    return { bytes, mediaType, digest };
  }

  async putManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const answer = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "content-type": mediaType },
      body: bytes,
      what: `the manifest ${repository}:${tag}`,
    });
    await finish(answer);
    return sha256Of(bytes);
  }

  /** True when the repository already has the blob (HEAD). */
  async hasBlob(
    repository: string,
    digest: string,
    scope = `repository:${repository}:pull,push`,
  ): Promise<boolean> {
    const answer = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope,
      what: `blob ${digest} of ${repository}`,
      accept: [404],
    });
    await finish(answer);
    return isOk(answer);
  }

  /**
   * Upload a blob from a file (or bytes): first a cross-repository mount when `mountFrom` names a repository of
   * the same registry holding it, else one upload session finished with a single PUT streamed from the file
   * (the spec's monolithic upload: two round trips, where a POST, PATCH, PUT upload takes three). Returns
   * "mounted" when it was mounted.
   */
  async uploadBlob(
    repository: string,
    blob: { digest: string; size: number; file?: string; bytes?: Buffer },
    options: { mountFrom?: string; onBytes?: (done: number) => void } = {},
  ): Promise<"mounted" | "uploaded"> {
    const scope = options.mountFrom
      ? `repository:${repository}:pull,push repository:${options.mountFrom}:pull`
      : `repository:${repository}:pull,push`;
    const query = options.mountFrom
      ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(options.mountFrom)}`
      : "";
    const started = await this.request("POST", `/v2/${repository}/blobs/uploads/${query}`, {
      scope,
      what: `an upload to ${repository}`,
      accept: [201, 202],
    });
    await finish(started);
    if (started.status === 201) return "mounted";
    const location = started.headers.location;
    if (!location) {
      throw new RuntimeFailure(`${this.host} started an upload to ${repository} without a Location.`, {
        hint: "The registry does not follow the distribution spec; ask its operators.",
      });
    }
    const target = new URL(location, this.origin);
    target.searchParams.set("digest", blob.digest);
    const body: RequestBody = blob.bytes ?? {
      file: blob.file as string,
      size: blob.size,
      onBytes: options.onBytes,
    };
    const finished = await this.request("PUT", target.href, {
      scope,
      headers: { "content-type": "application/octet-stream" },
      body,
      idleTimeoutMs: uploadAnswerTimeoutMs,
      what: `blob ${blob.digest} of ${repository}`,
    });
    await finish(finished);
    const stored = finished.headers["docker-content-digest"];
    if (stored && stored !== blob.digest) {
      throw new RuntimeFailure(`${this.host} stored blob ${blob.digest} as ${stored}.`, {
        hint: "The file changed while it was uploaded, or the registry altered it; push again.",
      });
    }
    return "uploaded";
  }

  /** `GET /v2/_catalog`: repositories, or undefined when the registry does not list them. */
  async catalog(limit = 100): Promise<string[] | undefined> {
    const answer = await this.request("GET", `/v2/_catalog?n=${limit}`, {
      scope: "registry:catalog:*",
      what: "the catalog",
      accept: [401, 403, 404, 405],
    });
    if (!isOk(answer)) {
      await finish(answer);
      return undefined;
    }
    const { repositories } = await this.json(answer);
    return Array.isArray(repositories) ? repositories.filter((r) => typeof r === "string") : [];
  }

  async tags(repository: string): Promise<string[]> {
    const answer = await this.request("GET", `/v2/${repository}/tags/list`, {
      scope: `repository:${repository}:pull`,
      what: `the tags of ${repository}`,
    });
    const { tags } = await this.json(answer);
    return Array.isArray(tags) ? tags.filter((t) => typeof t === "string") : [];
  }
}

/** A registry answer that is not what the spec says (a manifest that does not parse …). */
export const malformed = (what: string, host: string) =>
  new UserError(`${host} answered ${what} gpux cannot read.`, {
    hint: "Check the reference: it should name a ModelPack artifact or a modelcar image.",
  });
