import { type Command, createArgument } from "commander";
import { bashScript } from "../completion/bash-script.js";
import { completionTree } from "../completion/command-tree.js";
import { fishScript } from "../completion/fish-script.js";
import { zshScript } from "../completion/zsh-script.js";
import { runAction } from "../run-action.js";

const scripts = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;
type Shell = keyof typeof scripts;

export function registerCompletionCommand(program: Command): void {
  program
    .command("completion")
    .description("Print a shell completion script: commands, options, pulled model names, server ids")
    .addArgument(createArgument("<shell>", "bash, zsh or fish").choices(Object.keys(scripts)))
    .addHelpText(
      "after",
      "\nInstall it: bash `source <(gpux completion bash)` in ~/.bashrc; zsh `source <(gpux completion zsh)` in\n" +
        "~/.zshrc after compinit; fish `gpux completion fish > ~/.config/fish/completions/gpux.fish`.",
    )
    .action(
      runAction(async (shell: Shell) => {
        // every command's options, so the script is as true as --help: the whole program, loaded for it
        const { createProgram } = await import("../program.js");
        const full = await createProgram();
        process.stdout.write(scripts[shell](completionTree(full)));
      }),
    );
}
