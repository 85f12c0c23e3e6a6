import { formatNodeId } from "../mesh/meshtastic/node-number.js";
import type { RadioProblem } from "../mesh/meshtastic/radio-check.js";
import type { RadioView } from "../mesh/meshtastic/radio-view.js";

/** What the radio reports, one setting a line, for people. */
export function radioViewLines(view: RadioView): string[] {
  return [
    `node          ${formatNodeId(view.nodeNumber)} (${view.nodeNumber})`,
    `firmware      ${view.firmwareVersion}`,
    `region        ${view.region}`,
    `preset        ${view.usePreset ? view.preset : "custom LoRa settings"}`,
    `hop limit     ${view.hopLimit}`,
    `role          ${view.role}`,
    `rebroadcast   ${view.rebroadcastMode}`,
    `ignore_mqtt   ${view.ignoreMqtt ? "on" : "off"}`,
    `transmit      ${view.txEnabled ? "on" : "off"}`,
    `mqtt module   ${view.mqttEnabled ? "on" : "off"}`,
    "channels",
    ...view.channels.map((c) => `  ${c.index}  ${c.role.padEnd(9)} "${c.name}"  key ${c.keyFingerprint}  hash ${c.hash}${c.uplink ? "  uplink" : ""}${c.downlink ? "  downlink" : ""}`),
  ];
}

export function radioProblemLines(problems: readonly RadioProblem[]): string[] {
  if (problems.length === 0) return ["radio check: nothing found that would stop MeshChain"];
  return [
    `radio check: ${problems.length} setting${problems.length === 1 ? "" : "s"} would stop MeshChain`,
    ...problems.flatMap((p) => [`  ${p.setting} = ${p.found}: ${p.problem}`, `      fix: ${p.fix}`]),
  ];
}

interface RadioStatusLike {
  readonly link: string;
  readonly address: string;
  readonly state: string;
  readonly region: string;
  readonly preset: string;
  readonly reported: { readonly nodeId: string; readonly firmwareVersion: string } | null;
  readonly queuedFrames: number;
  readonly lastError: string | null;
}

/** The `radio` entry of `meshchain status` as one line. */
export function radioStatusLine(r: RadioStatusLike | null): string {
  if (r === null) return "none";
  const who = r.reported === null ? "" : ` ${r.reported.nodeId} fw ${r.reported.firmwareVersion}`;
  const queued = r.queuedFrames > 0 ? `, ${r.queuedFrames} frames waiting` : "";
  const error = r.state !== "connected" && r.lastError !== null ? ` (${r.lastError})` : "";
  return `${r.state} via ${r.address}${who}, ${r.region} ${r.preset}${queued}${error}`;
}
