import type { Command, Option } from "commander";

/** What a word in a position can be, for completion. */
export type WordSource =
  /** Pulled model names (`gpux ls -q`), and files: a model argument takes a path too. */
  | { kind: "models" }
  /** Running server ids (`gpux ps -q`), and `all`. */
  | { kind: "servers" }
  /** A fixed list (an option's or argument's choices). */
  | { kind: "words"; words: readonly string[] }
  | { kind: "files" }
  /** Free text or a number (`--text`, `--port`): nothing to offer. */
  | { kind: "any" };

export interface CompletionOption {
  /** `-i`, `--input`. */
  flags: string[];
  description: string;
  /** Undefined for a switch; else what its value can be. */
  value?: WordSource;
}

export interface CompletionCommand {
  /** Its name first, then its aliases. */
  names: string[];
  description: string;
  options: CompletionOption[];
  /** What its positional arguments can be; undefined when it takes none. */
  argument?: WordSource;
}

export interface CompletionTree {
  commands: CompletionCommand[];
  /** Options before a command (`--verbose`, `--version`, `--help`). */
  globalOptions: CompletionOption[];
}

const help: CompletionOption = { flags: ["-h", "--help"], description: "show help" };

/** Value names (`<path>`, `--file <path>`) that stand for a file or folder. */
const pathValue = /<(path|file|dir|glob)>/;

function valueSource(option: Option): WordSource | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return { kind: "words", words: option.argChoices };
  return pathValue.test(option.flags) ? { kind: "files" } : { kind: "any" };
}

function describeOption(option: Option): CompletionOption {
  const flags = [option.short, option.long].filter((flag): flag is string => flag !== undefined);
  return { flags, description: option.description, value: valueSource(option) };
}

/** A positional argument's words: by its name (`model`, `servers`), else its choices, else files. */
function argumentSource(command: Command): WordSource | undefined {
  const [first] = command.registeredArguments;
  if (!first) return undefined;
  const name = first.name();
  if (first.argChoices) return { kind: "words", words: first.argChoices };
  if (name === "model" || name === "models") return { kind: "models" };
  if (name === "server" || name === "servers") return { kind: "servers" };
  return { kind: "files" };
}

/**
 * The commands and options of the program, read from commander, so a completion script generated from it is
 * as true as `--help`.
 */
export function completionTree(program: Command): CompletionTree {
  const commands: CompletionCommand[] = program.commands.map((command) => ({
    names: [command.name(), ...command.aliases()],
    description: command.description(),
    options: [...command.options.map(describeOption), help],
    argument: argumentSource(command),
  }));
  // commander's own `help [command]`, which it does not list among the commands
  const helpCommand: CompletionCommand = {
    names: ["help"],
    description: "display help for command",
    options: [],
    argument: { kind: "words", words: commands.flatMap((c) => c.names) },
  };
  return {
    globalOptions: [...program.options.map(describeOption), help],
    commands: [...commands, helpCommand],
  };
}

/** Every flag of these options, for a word list. */
export const allFlags = (options: readonly CompletionOption[]) => options.flatMap((option) => option.flags);
