#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerAirtime } from "./commands/airtime.js";
import { registerConfig } from "./commands/config.js";
import { registerDevnet } from "./commands/devnet.js";
import { registerGenesis } from "./commands/genesis.js";
import { registerInit } from "./commands/init.js";
import { registerKeys } from "./commands/keys.js";
import { registerMesh } from "./commands/mesh.js";
import { registerRadio } from "./commands/radio.js";
import { registerStart } from "./commands/start.js";
import { registerStatus } from "./commands/status.js";
import { registerTx } from "./commands/tx.js";
import { registerValidatorCommands } from "./commands/validator.js";
import { registerChainReads } from "./commands/chain.js";
import { registerGov } from "./commands/gov.js";
import { registerMsg } from "./commands/msg.js";
import { registerWatch } from "./commands/watch.js";
import { exitQuietlyOnClosedPipe, reportError } from "./output.js";

const VERSION = "0.1.0";

function run(json: boolean, action: () => void | Promise<void>): void {
  try {
    const pending = action();
    if (pending instanceof Promise) pending.catch((e: unknown) => (process.exitCode = reportError(e, json)));
  } catch (e) {
    process.exitCode = reportError(e, json);
  }
}

export function buildProgram(): Command {
  const program = new Command()
    .name("meshchain")
    .description("MeshChain node: a stake-secured ledger over Meshtastic LoRa meshes")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerInit(program, run);
  registerKeys(program, run);
  registerGenesis(program, run);
  registerTx(program, run);
  registerValidatorCommands(program, run);
  registerChainReads(program, run);
  registerMsg(program, run);
  registerGov(program, run);
  registerWatch(program, run);
  registerStart(program, run);
  registerConfig(program, run);
  registerStatus(program, run);
  registerMesh(program, run);
  registerRadio(program, run);
  registerAirtime(program, run);
  registerDevnet(program, run);
  return program;
}

exitQuietlyOnClosedPipe();
try {
  buildProgram().parse(process.argv);
} catch (e) {
  // Commander has already printed the usage error; help and version are not errors.
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(e, process.argv.includes("--json"));
}
