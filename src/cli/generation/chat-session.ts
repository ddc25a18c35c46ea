import { createInterface, type Interface } from "node:readline";
import type { TextGenerator } from "../../engine/generation/generator.js";
import type { SamplingRequest } from "../../engine/generation/sampling.js";
import type { ChatMessage } from "../../pipeline/text/chat-template.js";
import { UserError } from "../../util/errors.js";
import { runPrompt } from "./run-prompt.js";

export interface ChatSessionOptions {
  system?: string;
  sampling: SamplingRequest;
  model: string;
  provider: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

const help = `Commands:
  /bye     leave (Ctrl-D too)
  /clear   forget the conversation
  /help    this list
Ctrl-C stops an answer; the conversation stays.
`;

/**
 * Lines as they are typed, queued: from a pipe readline reads every line at once, also while an answer is
 * being generated, and a line nobody waits for would be lost. undefined at end of input (Ctrl-D).
 */
function lineQueue(rl: Interface): () => Promise<string | undefined> {
  const lines: string[] = [];
  let waiting: ((line: string | undefined) => void) | undefined;
  let closed = false;
  const hand = (line: string | undefined) => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.(line);
  };
  rl.on("line", (line) => (waiting ? hand(line) : lines.push(line)));
  rl.on("close", () => {
    closed = true;
    hand(undefined);
  });
  return () => {
    if (lines.length > 0) return Promise.resolve(lines.shift());
    if (closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      waiting = resolve;
    });
  };
}

/**
 * An interactive chat like `ollama run`: each line is a user turn, the answer streams back, the history is
 * kept and rendered by the model's template every turn. /bye or Ctrl-D leaves; Ctrl-C during an answer stops
 * it (the part shown stays in the history) and at the prompt only says how to leave.
 */
export async function chatSession(generator: TextGenerator, options: ChatSessionOptions): Promise<void> {
  if (!generator.hasChatTemplate) {
    throw new UserError(`Model '${options.model}' has no chat template, so it cannot chat.`, {
      hint: `It is a base model: complete text with \`gpux run ${options.model} --prompt "…" --raw\`.`,
    });
  }
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const terminal = Boolean((output as NodeJS.WriteStream).isTTY && (input as NodeJS.ReadStream).isTTY);
  const rl = createInterface({ input, output, terminal });
  const history: ChatMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
  let answering: AbortController | undefined;
  const interrupt = () => {
    if (answering) answering.abort();
    else output.write("\nUse Ctrl-D or /bye to leave.\n");
  };
  // In a terminal readline reads Ctrl-C as a key; from a pipe it arrives as the signal.
  rl.on("SIGINT", interrupt);
  process.on("SIGINT", interrupt);
  const nextLine = lineQueue(rl);
  rl.setPrompt(">>> ");
  if (terminal) output.write("Send a message (/? for help)\n");
  try {
    for (;;) {
      rl.prompt();
      const line = await nextLine();
      if (line === undefined) break;
      const text = line.trim();
      if (text === "") continue;
      if (text === "/bye" || text === "/exit") break;
      if (text === "/?" || text === "/help") {
        output.write(help);
        continue;
      }
      if (text === "/clear") {
        history.splice(options.system ? 1 : 0);
        output.write("Cleared the conversation.\n");
        continue;
      }
      history.push({ role: "user", content: line });
      answering = new AbortController();
      try {
        const result = await runPrompt(generator, { messages: history }, options.sampling, {
          model: options.model,
          provider: options.provider,
          write: (piece) => output.write(piece),
          signal: answering.signal,
        });
        history.push({ role: "assistant", content: result.text });
        output.write(result.finish_reason === "abort" ? "\n[stopped]\n\n" : "\n\n");
      } catch (error) {
        // a turn the model cannot take (too long for the context …) is reported; the chat goes on without it
        history.pop();
        if (!(error instanceof UserError)) throw error;
        output.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}\n`);
      } finally {
        answering = undefined;
      }
    }
  } finally {
    process.off("SIGINT", interrupt);
    rl.close();
  }
}
