import { Command, CommanderError } from "commander";
import { ExitCode } from "../util/errors.js";
import { setVerbose } from "../util/log.js";
import { gpuxVersion } from "../util/version.js";
import { registerBuildCommand } from "./commands/build.js";
import { registerConvertCommand } from "./commands/convert.js";
import { registerDoctorCommand } from "./commands/doctor.js";
import { registerInspectCommand } from "./commands/inspect.js";
import { registerLsCommand } from "./commands/ls.js";
import { registerPullCommand } from "./commands/pull.js";
import { registerRmCommand } from "./commands/rm.js";
import { registerRunCommand } from "./commands/run.js";
import { registerServeCommand } from "./commands/serve.js";

/** Every command, registered in one place. */
const commands = [
  registerBuildCommand,
  registerRunCommand,
  registerInspectCommand,
  registerPullCommand,
  registerLsCommand,
  registerRmCommand,
  registerServeCommand,
  registerConvertCommand,
  registerDoctorCommand,
];

export function createProgram(): Command {
  const program = new Command("gpux")
    .description("Docker-like runtime for ML inference: pull, convert, run and serve ONNX models")
    .version(gpuxVersion, "-V, --version")
    .option("-v, --verbose", "show debug output and stack traces")
    .showSuggestionAfterError()
    .exitOverride()
    .hook("preAction", (command) => setVerbose(Boolean(command.optsWithGlobals().verbose)));
  for (const register of commands) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Parse argv and run; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
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
