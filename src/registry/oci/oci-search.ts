import { UserError } from "../../util/errors.js";
import type { SearchHit, SearchQuery } from "../registry.js";
import { filePathAnnotation, modelPackConfig } from "./media-types.js";
import type { ImageManifest } from "./modelpack.js";
import { taskAnnotation } from "./modelpack.js";
import { OciClient } from "./oci-client.js";

/** What a search of one OCI registry found, or why it could not list. */
export interface OciSearchAnswer {
  hits: SearchHit[];
  /** Set when the registry does not list its repositories (no catalog, or not to these credentials). */
  cannotList?: string;
}

/**
 * Search one registry: its catalog (`/v2/_catalog`, where the registry allows it) filtered by the query, each
 * match's tags, and each tag's manifest for task, size and whether it holds ONNX.
 */
export async function searchOciRegistry(
  host: string,
  query: SearchQuery,
  options: { plainHttp?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<OciSearchAnswer> {
  const client = new OciClient({ host, plainHttp: options.plainHttp, env: options.env });
  let repositories: string[] | undefined;
  try {
    repositories = await client.catalog(1000);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return {
      hits: [],
      cannotList: `${host} cannot list its repositories: ${error.message} ${error.hint ?? ""}`.trim(),
    };
  }
  if (!repositories) {
    return {
      hits: [],
      cannotList: `${host} does not list its repositories (no /v2/_catalog for these credentials)`,
    };
  }
  const words = query.text.toLowerCase().split(/\s+/).filter(Boolean);
  const hits: SearchHit[] = [];
  for (const repository of repositories.filter((r) => words.every((w) => r.includes(w)))) {
    for (const tag of await client.tags(repository)) {
      if (hits.length >= query.limit) return { hits };
      const fetched = await client.getManifest(repository, tag);
      const manifest = JSON.parse(fetched.bytes.toString("utf8")) as Partial<ImageManifest>;
      const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
      const task = manifest.annotations?.[taskAnnotation];
      if (query.task && task !== query.task) continue;
      const paths = layers.map((l) => l.annotations?.[filePathAnnotation] ?? "");
      const modelPack = manifest.config?.mediaType === modelPackConfig;
      const onnx = modelPack ? paths.some((p) => p.endsWith(".onnx")) : undefined;
      if (query.onnxOnly && onnx === false) continue;
      hits.push({
        source: `oci://${host}`,
        reference: `${host}/${repository}:${tag}`,
        task,
        onnx,
        sizeBytes: layers.reduce((sum, l) => sum + (Number.isSafeInteger(l.size) ? l.size : 0), 0),
      });
    }
  }
  return { hits };
}
