import { Command } from "commander";
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
import { reportError } from "./output.js";

/** How a command runs its action: `json` says how a failure is reported. */
export type Run = (json: boolean, action: () => void | Promise<void>) => void;

const VERSION = "0.1.0";

/**
 * A command's action with its failure reported on stderr and turned into the exit status. The
 * promise settles once the action has: the binary lets it run out with the process, while a caller
 * that runs commands in its own process (the tests' fixture) waits for it before reading the output.
 */
export function runAction(json: boolean, action: () => void | Promise<void>): Promise<void> {
  try {
    const pending = action();
    if (pending instanceof Promise) return pending.catch((e: unknown) => void (process.exitCode = reportError(e, json)));
  } catch (e) {
    process.exitCode = reportError(e, json);
  }
  return Promise.resolve();
}

/** Every command, its actions started through `run`; kept apart from main.ts so that importing it parses nothing. */
export function buildProgram(run: Run): Command {
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
