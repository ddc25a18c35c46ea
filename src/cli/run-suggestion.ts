import { findTask } from "../tasks.js";

/**
 * The `run it:` line pull and convert print: the input flag that suits the model's task, so a new user's
 * first command works as typed (a chat model takes `--prompt`, a text model `--text`, an image model
 * `--image`; a raw graph takes tensors as `--input`).
 */
export function runSuggestion(target: string, task: string | undefined): string {
  const definition = task === undefined ? undefined : findTask(task);
  const input =
    definition?.name === "text-generation"
      ? `--prompt "Hello!"`
      : definition?.text
        ? `--text "I love this!"`
        : definition?.name === "image-classification"
          ? "--image photo.jpg"
          : "--input '{...}'";
  return `run it: gpux run ${target} ${input}`;
}
