import { homedir } from "node:os";
import { join } from "node:path";

/** gpux's own folder: $GPUX_HOME, default ~/.gpux. */
export function gpuxHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPUX_HOME || join(homedir(), ".gpux");
}
