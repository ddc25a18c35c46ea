import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createProgram } from "../../src/cli/program.js";
import { repoRoot } from "../helpers/cli.js";

/** Each `## gpux <command>` section of docs/reference/cli.md and the flags its tables name (first column). */
function documented(): Map<string, Set<string>> {
  const text = readFileSync(join(repoRoot, "docs", "reference", "cli.md"), "utf8");
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  let name = "";
  for (const line of text.split("\n")) {
    const heading = /^## gpux (\w+)/.exec(line);
    if (heading) {
      name = heading[1] as string;
      current = sections.get(name) ?? new Set();
      sections.set(name, current);
      continue;
    }
    if (/^## /.test(line)) {
      current = undefined;
      name = "";
    }
    if (!current) continue;
    // a table row's first cell (`-p, --port N`), or a synopsis line of this command (`gpux ls [--json]`)
    const firstCell = /^\| *(`[^|]*)\|/.exec(line)?.[1];
    const synopsis = line.startsWith(`gpux ${name} `) ? line : undefined;
    const flagText = firstCell?.match(/`[^`]+`/g)?.join(" ") ?? synopsis;
    for (const flag of flagText?.match(/(?<![\w-])--?[a-zA-Z][\w-]*/g) ?? []) current.add(flag);
  }
  return sections;
}

/** Each command of `gpux --help` and the flags its own `--help` lists (help itself aside). */
async function inHelp(): Promise<Map<string, Set<string>>> {
  const program = await createProgram();
  const commands = new Map<string, Set<string>>();
  for (const command of program.commands) {
    const flags = new Set<string>();
    for (const option of command.options) {
      if (option.long) flags.add(option.long);
      if (option.short) flags.add(option.short);
    }
    commands.set(command.name(), flags);
  }
  return commands;
}

test("every command in docs/reference/cli.md exists, and every command is documented", async () => {
  const docs = documented();
  const help = await inHelp();
  assert.deepEqual([...docs.keys()].sort(), [...help.keys()].sort());
});

test("every flag in docs/reference/cli.md is in `gpux <command> --help`, and the reverse", async () => {
  const docs = documented();
  const help = await inHelp();
  const problems: string[] = [];
  for (const [name, flags] of help) {
    const written = docs.get(name) ?? new Set();
    for (const flag of flags) if (!written.has(flag)) problems.push(`gpux ${name} ${flag}: not in cli.md`);
    for (const flag of written)
      if (!flags.has(flag)) problems.push(`gpux ${name} ${flag}: in cli.md, not in --help`);
  }
  assert.deepEqual(problems, []);
});

/** The text of each `## …` section of docs/reference/cli.md, by its heading (`gpux run`, `Global options`). */
function sectionTexts(): Map<string, string> {
  const text = readFileSync(join(repoRoot, "docs", "reference", "cli.md"), "utf8");
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m)) {
    const heading = /^## (.+)/.exec(part)?.[1];
    if (heading) sections.set(heading.trim(), part);
  }
  return sections;
}

test("cli.md documents gpux's own options, each command's aliases and each option's choices", async () => {
  const program = await createProgram();
  const sections = sectionTexts();
  const problems: string[] = [];
  const global = sections.get("Global options") ?? "";
  for (const option of program.options) {
    if (!global.includes(`\`${option.flags}\``)) problems.push(`gpux ${option.flags}: not in Global options`);
  }
  for (const command of program.commands) {
    const text = sections.get(`gpux ${command.name()}`) ?? "";
    for (const alias of command.aliases()) {
      if (!text.includes(`gpux ${alias}`))
        problems.push(`gpux ${command.name()}: alias ${alias} not in cli.md`);
    }
    for (const option of command.options) {
      for (const choice of option.argChoices ?? []) {
        if (!new RegExp(`\\b${choice}\\b`).test(text))
          problems.push(`gpux ${command.name()} ${option.long} ${choice}: not in cli.md`);
      }
    }
    for (const argument of command.registeredArguments) {
      for (const choice of argument.argChoices ?? []) {
        if (!new RegExp(`\\b${choice}\\b`).test(text))
          problems.push(`gpux ${command.name()} <${argument.name()}> ${choice}: not in cli.md`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
