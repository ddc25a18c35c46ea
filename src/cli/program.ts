import { Command, CommanderError } from "commander";
import { ExitCode } from "../util/errors.js";
import { setVerbose } from "../util/log.js";
import { gpuxVersion } from "../util/version.js";

type Register = (program: Command) => void;

/**
 * Every command: its names, and the module that registers it. Only the module of the command being run is
 * loaded (all of them for help or an unknown command), so `gpux pull` or `gpux ls` never load ONNX Runtime.
 */
const commands: Array<{ names: string[]; load: () => Promise<Register> }> = [
  { names: ["build"], load: async () => (await import("./commands/build.js")).registerBuildCommand },
  { names: ["run"], load: async () => (await import("./commands/run.js")).registerRunCommand },
  { names: ["inspect"], load: async () => (await import("./commands/inspect.js")).registerInspectCommand },
  { names: ["pull"], load: async () => (await import("./commands/pull.js")).registerPullCommand },
  { names: ["push"], load: async () => (await import("./commands/push.js")).registerPushCommand },
  { names: ["login"], load: async () => (await import("./commands/login.js")).registerLoginCommand },
  { names: ["logout"], load: async () => (await import("./commands/logout.js")).registerLogoutCommand },
  { names: ["search"], load: async () => (await import("./commands/search.js")).registerSearchCommand },
  { names: ["ls", "list"], load: async () => (await import("./commands/ls.js")).registerLsCommand },
  { names: ["rm", "remove"], load: async () => (await import("./commands/rm.js")).registerRmCommand },
  { names: ["serve"], load: async () => (await import("./commands/serve.js")).registerServeCommand },
  { names: ["convert"], load: async () => (await import("./commands/convert.js")).registerConvertCommand },
  { names: ["doctor"], load: async () => (await import("./commands/doctor.js")).registerDoctorCommand },
];

/** The program with the commands `argv` needs (every command when argv names none). */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("gpux")
    .description("Docker-like runtime for ML inference: pull, convert, run and serve ONNX models")
    .version(gpuxVersion, "-V, --version")
    .option("-v, --verbose", "show debug output and stack traces")
    .showSuggestionAfterError()
    .exitOverride()
    .hook("preAction", (command) => setVerbose(Boolean(command.optsWithGlobals().verbose)));
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

/** Parse argv and run; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await createProgram(argv);
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are not errors; bad flags and unknown commands are user errors (exit 1)
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.userError;
    }
    throw error;
  }
  return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
}
