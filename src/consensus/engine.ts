/**
 * The consensus engine's public face. It is split by concern under engine/ (the router in
 * engine/engine.ts; docs/architecture.md lists the parts); callers keep importing from here.
 */
export { ConsensusEngine } from "./engine/engine.js";
export type { EngineDeps, EngineStats, LastVote, Mempool } from "./engine/types.js";
export { IP_LINK, type LinkProfile, RADIO_LINK, radioLink } from "./engine/link-profile.js";
export type { SenderGap } from "./nonce-gaps.js";
