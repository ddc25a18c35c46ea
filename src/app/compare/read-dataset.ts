import { readFile } from "node:fs/promises";
import { errorMessage, NotFoundError, UserError } from "../../util/errors.js";

/** One request of a comparison, with the labels the answer should have when the dataset gives them. */
export interface CompareRequest {
  request: unknown;
  /** The expected top-1 label, or one per text of a batched request. */
  labels?: string[];
  /** 1-based line in the dataset file, for messages. */
  line?: number;
}

function readLabels(value: unknown, where: string): string[] {
  const labels = Array.isArray(value) ? value : [value];
  if (labels.length === 0 || labels.some((label) => typeof label !== "string")) {
    throw new UserError(`${where}: 'label' must be a string (or a list of strings, one per text).`, {
      hint: 'Write each line as {"text": "…", "label": "POSITIVE"}.',
    });
  }
  return labels as string[];
}

/** One dataset line: a JSON object, the request itself, with an optional `label` taken out of it. */
function parseLine(text: string, where: string): Omit<CompareRequest, "line"> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${where} is not valid JSON: ${errorMessage(error)}`, {
      hint: 'Write one JSON object per line, e.g. {"text": "great film", "label": "POSITIVE"}.',
    });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new UserError(`${where} is not a JSON object.`, {
      hint: 'Write one JSON object per line, e.g. {"text": "great film", "label": "POSITIVE"}.',
    });
  }
  const { label, ...request } = value as Record<string, unknown>;
  return label === undefined ? { request } : { request, labels: readLabels(label, where) };
}

/** The requests of a JSON Lines file (blank lines skipped); an empty file or a bad line is a UserError. */
export async function readDataset(path: string): Promise<CompareRequest[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NotFoundError(`Cannot read dataset '${path}': ${errorMessage(error)}`, {
      hint: "Check the path.",
    });
  }
  const requests: CompareRequest[] = [];
  text.split("\n").forEach((raw, index) => {
    if (raw.trim() === "") return;
    requests.push({ ...parseLine(raw, `${path}:${index + 1}`), line: index + 1 });
  });
  if (requests.length === 0) {
    throw new UserError(`Dataset '${path}' holds no requests.`, {
      hint: 'Write one JSON request per line, e.g. {"text": "great film", "label": "POSITIVE"}.',
    });
  }
  return requests;
}
