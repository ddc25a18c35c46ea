import { allFlags, type CompletionTree, type WordSource } from "./command-tree.js";

/** The shell words that fill COMPREPLY from a source, for the word being completed (`$cur`). */
function reply(source: WordSource): string {
  switch (source.kind) {
    case "models":
      return "_gpux_models";
    case "servers":
      return 'COMPREPLY=($(compgen -W "$(gpux ps -q 2>/dev/null) all" -- "$cur"))';
    case "words":
      return `COMPREPLY=($(compgen -W "${source.words.join(" ")}" -- "$cur"))`;
    case "files":
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
    case "any":
      return "COMPREPLY=()";
  }
}

/**
 * Shell functions every generated script has. bash splits the line at COMP_WORDBREAKS, `:` among them, so
 * `hf:org/name` and `host:5000/repo:tag` arrive as several words: `_gpux_words` joins the pieces that no blank
 * separates, and `_gpux_colon_trim` drops from each reply the part of the word up to its last `:`, which bash
 * keeps and does not replace. Both are written here rather than taken from the bash-completion package, which
 * many systems lack. Replies are filenames (`-o filenames`: a slash after a folder) only where files are all
 * that is offered: in that mode bash would escape the `:` of an OCI model name.
 */
const helpers = `_gpux_words() {
  local line="\${COMP_LINE:0:COMP_POINT}" word rest i
  words=()
  for ((i = 0; i <= COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    rest="\${line#"\${line%%[![:space:]]*}"}"
    if ((i > 0)) && [[ \${#rest} == \${#line} && ( "$word" == :* || "\${words[-1]}" == *: ) ]]; then
      words[-1]+="$word"
    else
      words+=("$word")
    fi
    line="\${rest#"$word"}"
  done
  cword=$((\${#words[@]} - 1))
  cur="\${words[cword]}"
  prev="\${words[cword-1]}"
}
_gpux_colon_trim() {
  [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]] || return 0
  local kept="\${cur%"\${cur##*:}"}" i
  for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]="\${COMPREPLY[i]#"$kept"}"; done
}
_gpux_models() {
  local names prefix pattern='^[a-z][a-z0-9-]*:'
  names="$(gpux ls -q 2>/dev/null)"
  COMPREPLY=($(compgen -W "$names" -- "$cur"))
  # a registry prefix (hf:org/na) completes the name after it
  if [[ "$cur" =~ $pattern && "$cur" != *://* ]]; then
    prefix="\${BASH_REMATCH[0]}"
    COMPREPLY+=($(compgen -P "$prefix" -W "$names" -- "\${cur#"$prefix"}"))
  fi
  ((\${#COMPREPLY[@]})) || compopt -o filenames 2>/dev/null
  COMPREPLY+=($(compgen -f -- "$cur"))
}`;

/**
 * bash: `_gpux`, registered with `complete -F`. The command is the first word that is not an option (gpux's
 * own options take no value); after an option that takes one, its value is completed.
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
${helpers}
_gpux_reply() {
  local i
  for ((i = 1; i < cword; i++)); do
    if [[ "\${words[i]}" != -* ]]; then cmd="\${words[i]}"; break; fi
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${[...commandNames, ...allFlags(tree.globalOptions)].join(" ")}" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join("\n")}
  esac
}
_gpux() {
  local cur prev cword cmd="" words
  _gpux_words
  _gpux_reply
  _gpux_colon_trim
}
complete -F _gpux gpux
`;
}
