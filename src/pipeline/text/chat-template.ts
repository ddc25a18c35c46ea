import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { errorMessage, UserError } from "../../util/errors.js";

/** One turn of a chat, in the shape chat templates read (extra fields such as tool_calls pass through). */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  content: string;
  [field: string]: unknown;
}

export interface RenderChatOptions {
  /** End with the opening of an assistant turn, so the model answers (default true). */
  addGenerationPrompt?: boolean;
  /** Tool definitions, handed to the template as `tools` (JSON schema objects, as transformers takes them). */
  tools?: unknown[];
  /** More template variables (e.g. Qwen3's enable_thinking). */
  variables?: Record<string, unknown>;
}

/** A model's chat template, ready to render message lists into the prompt text the model was trained on. */
export interface ChatTemplate {
  readonly source: string;
  render(messages: readonly ChatMessage[], options?: RenderChatOptions): string;
}

type Json = Record<string, unknown>;

const specialTokenKeys = [
  "bos_token",
  "eos_token",
  "unk_token",
  "pad_token",
  "sep_token",
  "cls_token",
  "mask_token",
];

function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as Json).content === "string")
    return (value as Json).content as string;
  return undefined;
}

/** tokenizer_config.json's chat_template: a string, or named templates ([{name, template}]). */
function templateFromConfig(config: Json, withTools: boolean): string | undefined {
  const value = config.chat_template;
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return undefined;
  const named = new Map<string, string>();
  for (const entry of value as Json[]) {
    if (typeof entry?.name === "string" && typeof entry.template === "string")
      named.set(entry.name, entry.template);
  }
  return (withTools ? named.get("tool_use") : undefined) ?? named.get("default") ?? [...named.values()][0];
}

/**
 * The chat template of the model in `dir`: chat_template.jinja (where transformers ≥ 4.43 saves it), else
 * tokenizer_config.json's chat_template; undefined for base models without one. Rendered as transformers'
 * apply_chat_template does: the messages, `add_generation_prompt`, `tools`, and the special tokens as text.
 */
export function loadChatTemplate(dir: string, tokenizerConfig: Json): ChatTemplate | undefined {
  const file = join(dir, "chat_template.jinja");
  const fromFile = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  const plain = fromFile ?? templateFromConfig(tokenizerConfig, false);
  if (plain === undefined) return undefined;
  const withTools = fromFile ?? templateFromConfig(tokenizerConfig, true) ?? plain;
  const compiled = new Map<string, Template>();
  const compile = (source: string): Template => {
    let template = compiled.get(source);
    if (!template) {
      try {
        template = new Template(source);
      } catch (error) {
        throw new UserError(`The model's chat template does not parse: ${errorMessage(error)}`, {
          hint: "Fix chat_template in tokenizer_config.json (or chat_template.jinja), or send a raw prompt with --raw.",
        });
      }
      compiled.set(source, template);
    }
    return template;
  };
  const specials: Record<string, string> = {};
  for (const key of specialTokenKeys) {
    const text = tokenText(tokenizerConfig[key]);
    if (text !== undefined) specials[key] = text;
  }
  return {
    source: plain,
    render(messages, options = {}) {
      const tools = options.tools && options.tools.length > 0 ? options.tools : undefined;
      const template = compile(tools ? withTools : plain);
      try {
        return template.render({
          ...specials,
          ...options.variables,
          messages,
          tools,
          add_generation_prompt: options.addGenerationPrompt ?? true,
        });
      } catch (error) {
        throw new UserError(`The model's chat template refused these messages: ${errorMessage(error)}`, {
          hint: "Check the roles and their order (many templates want user and assistant turns to alternate).",
        });
      }
    },
  };
}
