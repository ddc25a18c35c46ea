import { Command, CommanderError } from "commander";
import { ExitCode, UserError } from "../util/errors.js";
import { setVerbose } from "../util/log.js";
import { envSettings } from "../util/settings.js";
import { gpuxVersion } from "../util/version.js";
import { reportError, setErrorFormat } from "./run-action.js";

type Register = (program: Command) => void;

/**
 * Every command: its names, and the module that registers it. Only the module of the command being run is
 * loaded (all of them for help or an unknown command), so `gpux pull` or `gpux ls` never load ONNX Runtime.
 */
const commands: Array<{ names: string[]; load: () => Promise<Register> }> = [
  { names: ["build"], load: async () => (await import("./commands/build.js")).registerBuildCommand },
  { names: ["run"], load: async () => (await import("./commands/run.js")).registerRunCommand },
  { names: ["chat"], load: async () => (await import("./commands/chat.js")).registerChatCommand },
  { names: ["compare"], load: async () => (await import("./commands/compare.js")).registerCompareCommand },
  { names: ["inspect"], load: async () => (await import("./commands/inspect.js")).registerInspectCommand },
  { names: ["pull"], load: async () => (await import("./commands/pull.js")).registerPullCommand },
  { names: ["push"], load: async () => (await import("./commands/push.js")).registerPushCommand },
  { names: ["login"], load: async () => (await import("./commands/login.js")).registerLoginCommand },
  { names: ["logout"], load: async () => (await import("./commands/logout.js")).registerLogoutCommand },
  { names: ["search"], load: async () => (await import("./commands/search.js")).registerSearchCommand },
  { names: ["ls", "list"], load: async () => (await import("./commands/ls.js")).registerLsCommand },
  { names: ["rm", "remove"], load: async () => (await import("./commands/rm.js")).registerRmCommand },
  { names: ["serve"], load: async () => (await import("./commands/serve.js")).registerServeCommand },
  { names: ["ps"], load: async () => (await import("./commands/ps.js")).registerPsCommand },
  { names: ["stop"], load: async () => (await import("./commands/stop.js")).registerStopCommand },
  { names: ["logs"], load: async () => (await import("./commands/logs.js")).registerLogsCommand },
  { names: ["convert"], load: async () => (await import("./commands/convert.js")).registerConvertCommand },
  { names: ["df"], load: async () => (await import("./commands/df.js")).registerDfCommand },
  { names: ["prune"], load: async () => (await import("./commands/prune.js")).registerPruneCommand },
  {
    names: ["completion"],
    load: async () => (await import("./commands/completion.js")).registerCompletionCommand,
  },
  { names: ["doctor"], load: async () => (await import("./commands/doctor.js")).registerDoctorCommand },
];

/** The program with the commands `argv` needs (every command when argv names none). */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("gpux")
    .description("Docker-like runtime for ML inference: pull, convert, run and serve ONNX models")
    .version(gpuxVersion, "-V, --version")
    .option("-v, --verbose", "show debug output and stack traces")
    .showSuggestionAfterError()
    // commander's own errors (unknown option, missing argument) are printed by main, with a hint, as every error is
    .configureOutput({ outputError: () => {} })
    .exitOverride()
    .hook("preAction", (command) =>
      setVerbose(Boolean(command.optsWithGlobals().verbose) || envSettings.verbose()),
    );
  const args = argv.slice(2);
  const named = args.find((arg) => !arg.startsWith("-"));
  const wanted = commands.filter((command) => command.names.includes(named ?? ""));
  // `gpux --version` needs no command (loading them all would load ONNX Runtime)
  const versionOnly = !named && (args.includes("--version") || args.includes("-V"));
  const toLoad = wanted.length > 0 ? wanted : versionOnly ? [] : commands;
  for (const command of toLoad) (await command.load())(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** The advice for a mistake commander found in the command line (its codes are documented by commander). */
function commandLineHint(error: CommanderError, command: string | undefined): string {
  const help = command ? `gpux ${command} --help` : "gpux --help";
  if (error.code === "commander.unknownCommand") return "Run `gpux --help` to see the commands.";
  if (error.code === "commander.missingArgument")
    return `Give the missing argument; \`${help}\` shows what it takes.`;
  return `Run \`${help}\` to see its arguments and options.`;
}

/** Parse argv and run; resolves to the process exit code. Every error is reported here or by runAction. */
export async function main(argv: readonly string[]): Promise<number> {
  const args = argv.slice(2);
  const beforeDashes = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  const command = beforeDashes.find((arg) => !arg.startsWith("-"));
  setErrorFormat({
    json: beforeDashes.includes("--json") || beforeDashes.includes("--json-output"),
    event: command === "pull" || (command === "run" && beforeDashes.includes("--batch")),
  });
  try {
    const program = await createProgram(argv);
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are not errors (`gpux` alone prints help and exits 1); bad flags are user errors (exit 1)
      if (error.exitCode === 0) return ExitCode.ok;
      if (error.code === "commander.help") return ExitCode.userError;
      const message = error.message.replace(/^error: /, "");
      return reportError(new UserError(message, { hint: commandLineHint(error, command), cause: error }));
    }
    return reportError(error);
  }
  return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
}
