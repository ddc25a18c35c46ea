import { readFile } from "node:fs/promises";
import { errorMessage, NotFoundError, UserError } from "../util/errors.js";
import { readStdin } from "./read-stdin.js";

/** `--input -` and `--file -` (and `--input @-`): the request is piped in, as `docker` and `curl -d @-` read it. */
const stdinName = "-";

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${where} is not valid JSON: ${errorMessage(error)}`, {
      hint: `Pass a JSON object, e.g. --input '{"x": [[1, 2, 3]]}'.`,
    });
  }
}

async function readJsonFile(path: string): Promise<unknown> {
  if (path === stdinName) return parseJson(await readStdin(), "The request on stdin");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NotFoundError(`Cannot read input file '${path}': ${errorMessage(error)}`, {
      hint: "Check the path.",
    });
  }
  return parseJson(text, `Input file '${path}'`);
}

/** The request from --input (JSON, @file or -), --file (a path or -), or the --text / --image shortcuts. */
export async function readRequest(options: {
  input?: string;
  file?: string;
  text?: string;
  image?: string;
}): Promise<unknown> {
  const given = (["input", "file", "text", "image"] as const).filter((key) => options[key] !== undefined);
  if (given.length > 1) {
    throw new UserError(`Use one of ${given.map((key) => `--${key}`).join(", ")}, not several.`, {
      hint: "Give the request one way: a shortcut such as --text, or the whole JSON with --input or --file.",
    });
  }
  if (options.text !== undefined) return { text: options.text };
  if (options.image !== undefined) return { image: options.image };
  if (options.file !== undefined) return readJsonFile(options.file);
  if (options.input !== undefined) {
    if (options.input === stdinName) return readJsonFile(stdinName);
    if (options.input.startsWith("@")) return readJsonFile(options.input.slice(1));
    return parseJson(options.input, "--input");
  }
  throw new UserError("No input given.", {
    hint: `Pass --input '{"name": value}', --input @request.json, --file request.json, --input - (stdin), --text "…" or --image photo.png.`,
  });
}
