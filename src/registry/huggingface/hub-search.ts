import { RuntimeFailure } from "../../util/errors.js";
import type { SearchHit, SearchQuery } from "../registry.js";
import { hubHttpError } from "./hub-errors.js";
import { createHubFetch } from "./hub-fetch.js";
import type { HubSettings } from "./hub-settings.js";

interface HubModelSummary {
  id?: unknown;
  pipeline_tag?: unknown;
  library_name?: unknown;
  tags?: unknown;
  downloads?: unknown;
  likes?: unknown;
}

const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** Libraries whose Hub repos ship ONNX graphs (transformers.js repos carry an onnx/ folder). */
const onnxLibraries = new Set(["onnx", "transformers.js", "onnxruntime"]);

/**
 * `/api/models?search=…`: the Hub's model search, with its task (`pipeline_tag`), library and `onnx` filters,
 * sorted by downloads, most first.
 */
export async function searchHub(settings: HubSettings, query: SearchQuery): Promise<SearchHit[]> {
  const url = new URL("/api/models", settings.endpoint);
  url.searchParams.set("search", query.text);
  url.searchParams.set("sort", "downloads");
  url.searchParams.set("direction", "-1");
  url.searchParams.set("limit", String(query.limit));
  if (query.task) url.searchParams.set("pipeline_tag", query.task);
  if (query.library) url.searchParams.set("library", query.library);
  if (query.onnxOnly) url.searchParams.append("filter", "onnx");
  const response = await createHubFetch({ endpoint: settings.endpoint, token: settings.token })(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw hubHttpError(response.status, {
      repoId: `search '${query.text}'`,
      revision: "main",
      endpoint: settings.endpoint,
      hasToken: Boolean(settings.token),
    });
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!Array.isArray(body)) {
    throw new RuntimeFailure(`The Hub at ${settings.endpoint} answered a search with something not a list.`, {
      hint: "HF_ENDPOINT may not be a Hugging Face Hub (or a mirror without search); check it.",
    });
  }
  return (body as HubModelSummary[]).flatMap((model): SearchHit[] => {
    if (typeof model.id !== "string") return [];
    const tags = Array.isArray(model.tags) ? model.tags.filter((t) => typeof t === "string") : [];
    const library = typeof model.library_name === "string" ? model.library_name : undefined;
    return [
      {
        source: "huggingface",
        reference: model.id,
        task: typeof model.pipeline_tag === "string" ? model.pipeline_tag : undefined,
        onnx: tags.includes("onnx") || (library !== undefined && onnxLibraries.has(library)),
        downloads: num(model.downloads),
        likes: num(model.likes),
      },
    ];
  });
}
