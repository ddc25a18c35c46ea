import { createRequire } from "node:module";

/** gpux's own version, from package.json. */
export const gpuxVersion = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;
