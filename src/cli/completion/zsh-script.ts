import type { CompletionOption, CompletionTree, WordSource } from "./command-tree.js";

/** Text inside an _arguments spec `[…]` or `name:description` pair, inside single quotes. */
const escapeSpec = (text: string) => text.replace(/([[\]:\\])/g, "\\$1").replace(/'/g, "'\\''");

/** The action of an _arguments spec: what a value or positional word can be. */
function action(source: WordSource): string {
  switch (source.kind) {
    case "models":
      return "_gpux_models";
    case "servers":
      return "_gpux_servers";
    case "words":
      return `(${source.words.join(" ")})`;
    case "files":
      return "_files";
    case "any":
      return " ";
  }
}

function optionSpec(option: CompletionOption): string {
  const value = option.value ? `:value:${action(option.value)}` : "";
  const names = option.flags.length > 1 ? `{${option.flags.join(",")}}` : option.flags[0];
  const exclusive = option.flags.length > 1 ? `'(${option.flags.join(" ")})'` : "";
  return `${exclusive}${names}'[${escapeSpec(option.description)}]${value}'`;
}

/** zsh: a `#compdef gpux` function built on _arguments, one case per command. */
export function zshScript(tree: CompletionTree): string {
  const described = tree.commands.flatMap((c) =>
    c.names.map((name) => `'${name}:${escapeSpec(c.description)}'`),
  );
  const cases = tree.commands.map((command) => {
    const specs = command.options.map(optionSpec);
    if (command.argument) specs.push(`'*:argument:${action(command.argument)}'`);
    return `    (${command.names.join("|")})\n      _arguments -s \\\n        ${specs.join(" \\\n        ")}\n      ;;`;
  });
  return `#compdef gpux
# gpux completion for zsh: add to ~/.zshrc (after compinit)
#   source <(gpux completion zsh)
_gpux_models() {
  local -a names
  names=(\${(f)"$(gpux ls -q 2>/dev/null)"})
  compadd -a names
  _files
}
_gpux_servers() {
  local -a ids
  ids=(\${(f)"$(gpux ps -q 2>/dev/null)"} all)
  compadd -a ids
}
_gpux() {
  local -a commands
  commands=(
    ${described.join("\n    ")}
  )
  if (( CURRENT == 2 )); then
    _describe command commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join("\n")}
  esac
}
compdef _gpux gpux
`;
}
