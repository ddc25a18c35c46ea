import { OpenAiRequestError } from "../../openai-error.js";
import { type Body, checkKnownFields, requireField } from "./read-fields.js";

/** `developer` is OpenAI's newer name for `system`; both reach the chat template as `system`. */
export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  /** The text; a list of text parts is joined with newlines. */
  content: string;
}

/** Message content: a string, or a list of `{"type": "text", "text": …}` parts (other part types refused). */
function readContent(value: unknown, param: string): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) {
    throw new OpenAiRequestError(`'${param}' must be a string or a list of text parts.`, {
      param,
      code: "invalid_type",
    });
  }
  return value
    .map((part, i) => {
      const type = (part as { type?: unknown } | null)?.type;
      const text = (part as { text?: unknown } | null)?.text;
      if (type === "text" && typeof text === "string") return text;
      if (typeof type === "string" && type !== "text") {
        throw new OpenAiRequestError(
          `'${param}[${i}]' is a '${type}' part; gpux models take text parts only.`,
          {
            param,
            code: "unsupported_parameter",
          },
        );
      }
      throw new OpenAiRequestError(`'${param}[${i}]' must be {"type": "text", "text": "…"}.`, {
        param,
        code: "invalid_type",
      });
    })
    .join("\n");
}

const roles: Record<string, ChatRole> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant",
};

/** OpenAI's `messages`: a non-empty list of `{role, content, name?}`. */
export function readMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value)) {
    throw new OpenAiRequestError("'messages' must be a list of {role, content} objects.", {
      param: "messages",
      code: "invalid_type",
    });
  }
  if (value.length === 0) {
    throw new OpenAiRequestError("'messages' is empty; send at least one message.", {
      param: "messages",
      code: "invalid_value",
    });
  }
  return value.map((message, i) => {
    const param = `messages[${i}]`;
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new OpenAiRequestError(`'${param}' must be a {role, content} object.`, {
        param,
        code: "invalid_type",
      });
    }
    const fields = message as Body;
    checkKnownFields(fields, ["role", "content", "name"]);
    const roleName = requireField(fields, "role");
    const role = typeof roleName === "string" ? roles[roleName] : undefined;
    if (role === undefined) {
      const tools = roleName === "tool" || roleName === "function";
      throw new OpenAiRequestError(
        tools
          ? `'${param}.role' is '${String(roleName)}': gpux does not call tools.`
          : `'${param}.role' must be system, developer, user or assistant, got ${JSON.stringify(roleName)}.`,
        { param: `${param}.role`, code: tools ? "unsupported_parameter" : "invalid_value" },
      );
    }
    const content = fields.content;
    if (content === undefined || content === null) {
      throw new OpenAiRequestError(`Missing required parameter: '${param}.content'.`, {
        param: `${param}.content`,
        code: "missing_required_parameter",
      });
    }
    return { role, content: readContent(content, `${param}.content`) };
  });
}
