#!/usr/bin/env node
import { main } from "./program.js";
import { reportError } from "./run-action.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error);
  },
);
