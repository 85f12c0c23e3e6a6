/**
 * What an operator should know is wrong, each with its reason in words. One home for these rules:
 * the status command, the status page, the metrics (`meshchain_warning_active{code}`) and the
 * status line all show what `nodeWarnings` returns.
 */

export type WarningCode =
  | "NOT_READY"
  | "NO_PEERS"
  | "FINALITY_WAITS_FOR_TRANSACTIONS"
  | "NOT_FINALIZING"
  | "LINK_DOWN"
  | "RADIO_LINK_DOWN"
  | "RADIO_DUTY_CYCLE"
  | "AIRTIME_BUDGET_NEARLY_SPENT"
  | "DISK_FILLING"
  | "VALIDATOR_NOT_VOTING"
  | "CLOCK_OFF"
  | "STORAGE_FAULT";

/** Every code, in a fixed order: the metrics export each one, 0 or 1, so a dashboard can alert on it. */
export const WARNING_CODES: readonly WarningCode[] = [
  "NOT_READY", "NO_PEERS", "FINALITY_WAITS_FOR_TRANSACTIONS", "NOT_FINALIZING", "LINK_DOWN", "RADIO_LINK_DOWN", "RADIO_DUTY_CYCLE",
  "AIRTIME_BUDGET_NEARLY_SPENT", "DISK_FILLING", "VALIDATOR_NOT_VOTING", "CLOCK_OFF", "STORAGE_FAULT",
];

export interface NodeWarning {
  readonly code: WarningCode;
  /** "info": expected, explained; "warn": the operator may need to act. */
  readonly severity: "info" | "warn";
  readonly reason: string;
}

/** The figures the rules judge; gathered by the node, so that the rules stay pure and testable. */
export interface WarningInputs {
  readonly role: "validator" | "follower";
  readonly validators: number;
  readonly sync: { readonly state: string; readonly percent: number; readonly etaSeconds: number | null; readonly targetHeight: number };
  readonly peers: number;
  /** Whether the node has a network at all (a lone dev validator has none, and needs none). */
  readonly networked: boolean;
  readonly height: number;
  readonly finalizedHeight: number;
  /** Seconds since the last finalized block was made. */
  readonly finalizedAgeSeconds: number;
  readonly slotSeconds: number;
  readonly heartbeatSlots: number;
  readonly mempoolTransactions: number;
  /** Whether any block above finality carries transactions (those need finality; empty ones do not). */
  readonly unfinalizedTransactions: boolean;
  readonly ipLink: { readonly state: string; readonly lastError: string | null } | null;
  readonly radio: {
    readonly state: string; readonly lastError: string | null; readonly lastHourAirtimeSeconds: number; readonly budgetSecondsPerHour: number;
    /** Seconds until the link offers the frames the radio refused for its duty cycle, and how many wait; null when not paused. */
    readonly dutyCyclePause?: { readonly heldFrames: number; readonly secondsLeft: number } | null;
  } | null;
  readonly disk: { readonly freeBytes: number; readonly totalBytes: number } | null;
  /** Validators (address, in the chain's display form) and the slot of their last vote heard; null: none heard. */
  readonly votes: readonly { readonly validator: string; readonly lastVoteSlot: number | null }[];
  /** Slot of the newest block this node knows of. */
  readonly headSlot: number;
  /** Median of (peer's clock − ours) from peers' signed statuses, ms; null with no peer heard. */
  readonly peerClockOffsetMs: number | null;
  /** A store failing its writes (StorageHealth); null while every store takes writes. */
  readonly storageFault?: { readonly store: string; readonly code: string; readonly during: string; readonly message: string } | null;
  /** Slots without a vote after which a validator counts as not voting; default SILENT_VALIDATOR_SLOTS. */
  readonly silentValidatorSlots?: number;
}

/** Share of the hourly airtime budget past which the operator is told. */
export const AIRTIME_WARN_SHARE = 0.8;
/** Free share of the data directory's disk under which the operator is told. */
export const DISK_WARN_FREE_SHARE = 0.1;
/** Free bytes under which the operator is told, however large the disk. */
export const DISK_WARN_FREE_BYTES = 256 * 1024 * 1024;
/** A validator whose last vote is this many slots behind the head counts as not voting. */
export const SILENT_VALIDATOR_SLOTS = 10;
/** Clocks further apart than this make slots disagree between nodes (well above a radio hop's delivery delay). */
export const CLOCK_WARN_MS = 30_000;
/** A chain with transactions waiting that has not finalized for this many slots is stuck. */
const STUCK_SLOTS = 20;

/**
 * A node cannot see a remote radio's duty cycle, but a stall while its own radio is connected and
 * not held for its duty cycle points past it: to a relay between the validators that spent its hour
 * (devnet seed 4 with --kill: two bridges, each dropping hundreds of relays, finality stood 80 minutes).
 */
const RELAY_SPENT_HINT = "; this radio is within its duty cycle, so a radio relaying between the validators may have spent its hour, and the firmware drops what it would relay (see NOT_FINALIZING in docs/operations.md)";
const radioFine = (i: WarningInputs): boolean => i.radio !== null && i.radio.state === "connected" && (i.radio.dutyCyclePause ?? null) === null;

const mb = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MB`;
const linkReason = (l: { state: string; lastError: string | null }): string => `${l.state}${l.lastError === null ? "" : ` (last error: ${l.lastError})`}`;

export function nodeWarnings(i: WarningInputs): NodeWarning[] {
  const out: NodeWarning[] = [];
  const warn = (code: WarningCode, reason: string, severity: NodeWarning["severity"] = "warn") => out.push({ code, severity, reason });
  const fault = i.storageFault ?? null;
  if (fault !== null) {
    warn("STORAGE_FAULT", `${fault.store} store fails its writes (${fault.code}) while ${fault.during}: block production and signing paused, retrying; ${fault.code === "DISK_FULL" ? "free space on the data directory's disk" : fault.message}`);
  }
  if (i.sync.state !== "synced") {
    const why =
      i.sync.state === "syncing"
        ? `syncing: ${i.sync.percent}% of the way to height ${i.sync.targetHeight}${i.sync.etaSeconds === null ? "" : `, about ${i.sync.etaSeconds} s to go`}`
        : i.sync.state === "behind"
          ? `behind: peers announced height ${i.sync.targetHeight} but none can be asked for blocks`
          : i.sync.state === "idle"
            ? "no peer has announced a chain to sync from yet"
            : `sync failed (${i.sync.state}); it retries with another peer`;
    warn("NOT_READY", why);
  }
  if (i.networked && i.peers === 0 && !(i.role === "validator" && i.validators === 1)) {
    warn("NO_PEERS", "no peer heard from: check the broker and the radio link, and that peers run the same chain");
  }
  if (i.validators > 1 && i.sync.state === "synced") {
    const stuckSeconds = STUCK_SLOTS * i.slotSeconds;
    if (!i.unfinalizedTransactions && i.mempoolTransactions === 0 && i.height > i.finalizedHeight) {
      warn("FINALITY_WAITS_FOR_TRANSACTIONS", `the ${i.height - i.finalizedHeight} block(s) above finalized height ${i.finalizedHeight} are empty heartbeats; empty blocks are not finalized (an idle chain stays quiet to save airtime), so finality moves with the next transaction`, "info");
    } else if ((i.unfinalizedTransactions || i.mempoolTransactions > 0) && i.finalizedAgeSeconds > stuckSeconds) {
      warn("NOT_FINALIZING", `transactions wait but nothing was finalized for ${Math.round(i.finalizedAgeSeconds)} s: finality needs two notarized blocks in consecutive slots (a block and its child), each voted by validators with over 2/3 of the weight; see which validators are not voting${radioFine(i) ? RELAY_SPENT_HINT : ""}`);
    }
  }
  if (i.ipLink !== null && i.ipLink.state !== "connected") warn("LINK_DOWN", `the MQTT link to the broker is ${linkReason(i.ipLink)}; it reconnects by itself`);
  if (i.radio !== null) {
    if (i.radio.state !== "connected") warn("RADIO_LINK_DOWN", `the radio's MQTT gateway link is ${linkReason(i.radio)}; nothing goes on air until it is back`);
    const pause = i.radio.dutyCyclePause ?? null;
    if (pause !== null) {
      warn("RADIO_DUTY_CYCLE", `the radio refuses our frames: its hour's airtime is over the region's duty cycle; ${pause.heldFrames} frame(s) held, offered again in ${Math.round(pause.secondsLeft)} s; nothing of ours goes on air meanwhile (votes, proposals, transactions wait)`);
    }
    const share = i.radio.budgetSecondsPerHour === 0 ? 1 : i.radio.lastHourAirtimeSeconds / i.radio.budgetSecondsPerHour;
    if (share >= AIRTIME_WARN_SHARE) {
      warn("AIRTIME_BUDGET_NEARLY_SPENT", `${i.radio.lastHourAirtimeSeconds.toFixed(1)} s of the ${i.radio.budgetSecondsPerHour} s hourly airtime budget used (${Math.round(share * 100)}%): less urgent frames wait`);
    }
  }
  if (i.disk !== null && i.disk.totalBytes > 0 && (i.disk.freeBytes / i.disk.totalBytes < DISK_WARN_FREE_SHARE || i.disk.freeBytes < DISK_WARN_FREE_BYTES)) {
    warn("DISK_FILLING", `${mb(i.disk.freeBytes)} free of ${mb(i.disk.totalBytes)} on the data directory's disk; the node stops writing blocks when it is full`);
  }
  const silentSlots = i.silentValidatorSlots ?? SILENT_VALIDATOR_SLOTS;
  if (i.validators > 1 && i.headSlot > silentSlots) {
    const silent = i.votes.filter((v) => v.lastVoteSlot === null || i.headSlot - v.lastVoteSlot > silentSlots);
    // Blocks must be coming for votes to be expected: on an idle chain nobody votes.
    const recentBlocks = i.votes.some((v) => v.lastVoteSlot !== null && i.headSlot - v.lastVoteSlot <= silentSlots);
    if (silent.length > 0 && recentBlocks) {
      warn("VALIDATOR_NOT_VOTING", `${silent.map((v) => `${v.validator} (${v.lastVoteSlot === null ? "never heard" : `last vote slot ${v.lastVoteSlot}`})`).join(", ")}: no vote in the last ${silentSlots} slots (head at slot ${i.headSlot})`);
    }
  }
  if (i.peerClockOffsetMs !== null && Math.abs(i.peerClockOffsetMs) > CLOCK_WARN_MS) {
    warn("CLOCK_OFF", `this clock is ${Math.round(Math.abs(i.peerClockOffsetMs) / 1000)} s ${i.peerClockOffsetMs > 0 ? "behind" : "ahead of"} its peers' (median): slots disagree; check NTP or the GPS time source`);
  }
  return out;
}
