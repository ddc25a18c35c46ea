import { searchOciRegistry } from "../registry/oci/oci-search.js";
import { createRegistry } from "../registry/registries.js";
import type { SearchHit, SearchQuery } from "../registry/registry.js";
import { errorMessage } from "../util/errors.js";

export interface SearchModelsOptions extends Partial<Omit<SearchQuery, "text">> {
  /**
   * Where to search: `huggingface` (or `hf`) and OCI hosts (`host:port`). Default the Hub and the hosts in
   * GPUX_OCI_REGISTRIES (comma-separated).
   */
  registries?: string[];
  plainHttp?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface SearchModelsResult {
  hits: SearchHit[];
  /** One line per source that could not answer or cannot list (`host: does not list its repositories`). */
  notes: string[];
}

const isHub = (name: string) => ["huggingface", "hf"].includes(name.toLowerCase());

/** `gpux search`: the Hub and OCI registries asked at once, one list, most downloaded first. */
export async function searchModels(
  text: string,
  options: SearchModelsOptions = {},
): Promise<SearchModelsResult> {
  const env = options.env ?? process.env;
  const configured = (env.GPUX_OCI_REGISTRIES ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  const sources = options.registries?.length ? options.registries : ["huggingface", ...configured];
  const query: SearchQuery = {
    text,
    task: options.task,
    library: options.library,
    onnxOnly: options.onnxOnly,
    limit: options.limit ?? 20,
  };
  const notes: string[] = [];
  const answers = await Promise.all(
    sources.map(async (source): Promise<SearchHit[]> => {
      try {
        if (isHub(source)) return (await createRegistry("huggingface", { env }).search?.(query)) ?? [];
        const host = source.replace(/^oci:\/\//, "").replace(/\/.*$/, "");
        const answer = await searchOciRegistry(host, query, { plainHttp: options.plainHttp, env });
        if (answer.cannotList) notes.push(answer.cannotList);
        return answer.hits;
      } catch (error) {
        notes.push(`${source}: ${errorMessage(error)}`);
        return [];
      }
    }),
  );
  const hits = answers.flat().sort((a, b) => (b.downloads ?? -1) - (a.downloads ?? -1));
  return { hits: hits.slice(0, query.limit), notes };
}
