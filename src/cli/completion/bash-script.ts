import { allFlags, type CompletionTree, type WordSource } from "./command-tree.js";

/** The shell words that fill COMPREPLY from a source, for the word being completed (`$cur`). */
function reply(source: WordSource): string {
  switch (source.kind) {
    case "models":
      return 'COMPREPLY=($(compgen -W "$(gpux ls -q 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur"))';
    case "servers":
      return 'COMPREPLY=($(compgen -W "$(gpux ps -q 2>/dev/null) all" -- "$cur"))';
    case "words":
      return `COMPREPLY=($(compgen -W "${source.words.join(" ")}" -- "$cur"))`;
    case "files":
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case "any":
      return "COMPREPLY=()";
  }
}

/**
 * bash: one function, `_gpux`, registered with `complete -F`. The command is the first word that is not an
 * option (gpux's own options take no value); after an option that takes one, its value is completed.
 */
export function bashScript(tree: CompletionTree): string {
  const commandNames = tree.commands.flatMap((c) => c.names);
  const cases = tree.commands.map((command) => {
    const valued = command.options
      .filter((option) => option.value)
      .map((option) => `        ${option.flags.join("|")}) ${reply(option.value as WordSource)}; return ;;`);
    const positional = command.argument ? reply(command.argument) : "COMPREPLY=()";
    return [
      `    ${command.names.join("|")})`,
      '      case "$prev" in',
      ...valued,
      "      esac",
      `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${allFlags(command.options).join(" ")}" -- "$cur")); return; fi`,
      `      ${positional}`,
      "      ;;",
    ].join("\n");
  });
  return `# gpux completion for bash: add to ~/.bashrc
#   source <(gpux completion bash)
_gpux() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ "\${COMP_WORDS[i]}" != -* ]]; then cmd="\${COMP_WORDS[i]}"; break; fi
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${[...commandNames, ...allFlags(tree.globalOptions)].join(" ")}" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join("\n")}
  esac
}
complete -o filenames -F _gpux gpux
`;
}
