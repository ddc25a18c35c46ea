import type { Command } from "commander";
import { chatSession } from "../generation/chat-session.js";
import { openGenerator } from "../generation/open-generator.js";
import { addSamplingFlags, type SamplingFlags, samplingFromFlags } from "../generation/sampling-flags.js";
import { runAction } from "../run-action.js";

interface ChatOptions extends SamplingFlags {
  system?: string;
  config?: string;
  provider?: string;
}

async function chat(ref: string | undefined, options: ChatOptions): Promise<void> {
  const sampling = samplingFromFlags(options);
  const opened = await openGenerator(ref, options);
  try {
    await chatSession(opened.generator, {
      system: options.system,
      sampling,
      model: opened.model.name,
      provider: opened.model.provider,
    });
  } finally {
    await opened.close();
  }
}

export function registerChatCommand(program: Command): void {
  const command = program
    .command("chat")
    .description("Chat with a text-generation model in the terminal (/bye or Ctrl-D leaves)")
    .argument("[model]", "a pulled name, a folder with gpux.yml, or gpux.yml (default: ./gpux.yml)")
    .option("-s, --system <text>", "the system turn: instructions for the whole chat")
    .option("-c, --config <path>", "gpux.yml to use")
    .option("-p, --provider <name>", "execution provider: auto, tensorrt, cuda, dml, coreml, webgpu, cpu");
  addSamplingFlags(command).action(runAction(chat));
}
