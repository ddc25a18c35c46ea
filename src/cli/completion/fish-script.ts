import type { CompletionOption, CompletionTree, WordSource } from "./command-tree.js";

const quote = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** `-a …` (and `-F` for files) of a `complete` line: what a value or positional word can be. */
function words(source: WordSource): string {
  switch (source.kind) {
    case "models":
      return "-F -a '(gpux ls -q 2>/dev/null)'";
    case "servers":
      return "-a '(gpux ps -q 2>/dev/null) all'";
    case "words":
      return `-a ${quote(source.words.join(" "))}`;
    case "files":
      return "-F";
    case "any":
      return "-f";
  }
}

function optionLine(condition: string, option: CompletionOption): string {
  const flags = option.flags.map((flag) =>
    flag.startsWith("--") ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`,
  );
  const value = option.value ? ` -r ${words(option.value)}` : "";
  return `complete -c gpux -n ${quote(condition)} ${flags.join(" ")}${value} -d ${quote(option.description)}`;
}

/** fish: `complete` lines, each command's under `__fish_seen_subcommand_from`. */
export function fishScript(tree: CompletionTree): string {
  const lines = [
    "# gpux completion for fish: gpux completion fish > ~/.config/fish/completions/gpux.fish",
    "complete -c gpux -f",
    ...tree.globalOptions.map((option) => optionLine("__fish_use_subcommand", option)),
    ...tree.commands.flatMap((command) =>
      command.names.map(
        (name) => `complete -c gpux -n __fish_use_subcommand -a ${name} -d ${quote(command.description)}`,
      ),
    ),
  ];
  for (const command of tree.commands) {
    const condition = `__fish_seen_subcommand_from ${command.names.join(" ")}`;
    lines.push(...command.options.map((option) => optionLine(condition, option)));
    if (command.argument) lines.push(`complete -c gpux -n ${quote(condition)} ${words(command.argument)}`);
  }
  return `${lines.join("\n")}\n`;
}
