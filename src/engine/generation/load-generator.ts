import { generationDefaults } from "../../config/generation-settings.js";
import { loadChatTemplate } from "../../pipeline/text/chat-template.js";
import { loadTokenizer } from "../../pipeline/text/load-tokenizer.js";
import type { Model, RunGuard } from "../model.js";
import { readDecoderIo } from "./decoder-io.js";
import { DecoderSession } from "./decoder-session.js";
import { TextGenerator } from "./generator.js";

/**
 * A text generator for a loaded model: the decoder's I/O from its session and config files, the tokenizer and
 * chat template beside gpux.yml, and gpux.yml `generation:` over what generation_config.json says (a gpux.yml
 * written before it had that section still gets the model's own defaults).
 */
export function loadGenerator(model: Model, runGuard?: RunGuard): TextGenerator {
  const dir = model.loaded.dir;
  const files = model.context.files;
  const hfConfig = files.json("config.json");
  const genaiConfig = files.json("genai_config.json");
  const io = readDecoderIo(model.inputs, model.outputs, hfConfig, genaiConfig);
  const fromFiles = generationDefaults(hfConfig, files.json("generation_config.json"), genaiConfig);
  const settings = { ...fromFiles, ...model.loaded.config.generation };
  const tokenizer = loadTokenizer(model.context);
  const tokenizerConfig = files.json("tokenizer_config.json") ?? {};
  // no eos_token_id in the configs: the tokenizer's eos_token (without either, max_tokens ends the answer)
  const eos = [...(settings.eos_token_id ?? [])];
  if (eos.length === 0) {
    const name = tokenizerConfig.eos_token;
    const text = typeof name === "string" ? name : (name as { content?: unknown } | undefined)?.content;
    const id = typeof text === "string" ? tokenizer.tokenToId(text) : undefined;
    if (id !== undefined) eos.push(id);
  }
  return new TextGenerator({
    decoder: new DecoderSession(model.session, io, runGuard),
    tokenizer,
    template: loadChatTemplate(dir, tokenizerConfig),
    settings,
    eosIds: new Set(eos),
  });
}
