#!/usr/bin/env node
import { handleProcessExit } from "../util/process-exit.js";
import { main } from "./program.js";
import { reportError } from "./run-action.js";

// signals and a closed stdout end every command the same way (clean-ups, then exit 130 / 143 / 0)
handleProcessExit();
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error);
  },
);
