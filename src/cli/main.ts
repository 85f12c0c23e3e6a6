#!/usr/bin/env node
import { CommanderError } from "commander";
import { exitQuietlyOnClosedPipe, reportError } from "./output.js";
import { buildProgram, runAction } from "./program.js";

exitQuietlyOnClosedPipe();
try {
  // The action runs out with the process; its failure sets the exit status (runAction).
  buildProgram((json, action) => void runAction(json, action)).parse(process.argv);
} catch (e) {
  // Commander has already printed the usage error; help and version are not errors.
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(e, process.argv.includes("--json"));
}
