import type { TensorMap } from "../pipeline/pipeline.js";
import { UserError } from "../util/errors.js";

/**
 * Refuse an answer of more than `limit` values before it is encoded as JSON: encoding is done on the event
 * loop, and 2e7 values took 8.6 s and 40 MB (the server's --max-answer-elements sets the limit).
 */
export function checkAnswerSize(outputs: TensorMap, names: readonly string[], limit: number): void {
  let count = 0;
  for (const name of names) count += outputs[name]?.size ?? 0;
  if (count <= limit) return;
  throw new UserError(
    `The answer would hold ${count} values; this server answers at most ${limit} per request.`,
    {
      hint: "Send a smaller input, ask for fewer outputs (OIP `outputs`), or raise --max-answer-elements.",
    },
  );
}
