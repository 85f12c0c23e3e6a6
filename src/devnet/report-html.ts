import type { DevnetReport, DevnetSample } from "./common.js";

/**
 * A devnet report as one self-contained HTML page: the summary table, and inline SVG plots of
 * airtime by class over time, heights over time and the finality latency distribution. No script,
 * no fetch, nothing from a CDN: it opens offline and can be attached to an issue as it is.
 */
export function devnetReportHtml(report: DevnetReport, title: string): string {
  const timeline = report.timeline ?? [];
  const { nodes: _nodes, timeline: _t, finalityLatenciesSeconds: latencies = [], ...summary } = report;
  const rows = Object.entries(summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))}</td></tr>`).join("\n");
  const classes = timeline.length === 0 ? [] : Object.keys((timeline[timeline.length - 1] as DevnetSample).airtimeSeconds).filter((k) => timeline.some((s) => (s.airtimeSeconds[k] ?? 0) > 0));
  const airtime = linePlot("Airtime by class (cumulative, seconds)", timeline.map((s) => s.seconds), classes.map((k, i) => ({ name: k, color: PALETTE[i % PALETTE.length] as string, values: timeline.map((s) => s.airtimeSeconds[k] ?? 0) })));
  const heights = linePlot("Heights", timeline.map((s) => s.seconds), [
    { name: "head (highest)", color: PALETTE[0] as string, values: timeline.map((s) => s.headHeight) },
    { name: "finalized (lowest)", color: PALETTE[1] as string, values: timeline.map((s) => s.finalizedHeight) },
  ]);
  const txs = linePlot("Transactions", timeline.map((s) => s.seconds), [
    { name: "submitted", color: PALETTE[2] as string, values: timeline.map((s) => s.txsSubmitted) },
    { name: "final everywhere", color: PALETTE[1] as string, values: timeline.map((s) => s.txsFinal) },
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1b1f24; max-width: 960px; }
table { border-collapse: collapse; margin-bottom: 16px; } th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { font-weight: 500; color: #57606a; } figure { margin: 0 0 24px; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; background: #fafbfc; border: 1px solid #eee; } .legend span { margin-right: 12px; }
</style></head><body>
<h1>${esc(title)}</h1>
<table>${rows}</table>
${airtime}
${heights}
${txs}
${histogram("Finality latency (seconds): transactions final at every running node", latencies)}
</body></html>
`;
}

const PALETTE = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e", "#57606a"];
const W = 640;
const H = 220;
const PAD = { left: 48, right: 12, top: 10, bottom: 28 };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round numbers for an axis: 0 and the maximum, and two between. */
function ticks(max: number): number[] {
  const top = max <= 0 ? 1 : max;
  return [0, top / 3, (2 * top) / 3, top];
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? Math.round(v).toString() : (Math.round(v * 10) / 10).toString());

function frame(xMax: number, yMax: number, xLabel: string): string {
  const x = (v: number) => PAD.left + (v / (xMax || 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / (yMax || 1)) * (H - PAD.top - PAD.bottom);
  const yTicks = ticks(yMax).map((t) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${PAD.left - 4}" y="${y(t) + 4}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  const xTicks = ticks(xMax).map((t) => `<text x="${x(t)}" y="${H - 12}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  return `${yTicks.join("")}${xTicks.join("")}<text x="${W / 2}" y="${H - 1}" text-anchor="middle" font-size="10">${esc(xLabel)}</text>`;
}

function linePlot(caption: string, xs: readonly number[], series: readonly { name: string; color: string; values: readonly number[] }[]): string {
  if (xs.length === 0 || series.length === 0) return `<figure><figcaption>${esc(caption)}</figcaption><p>No samples.</p></figure>`;
  const xMax = Math.max(...xs);
  const yMax = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (v: number) => PAD.left + (v / (xMax || 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.values.map((v, i) => `${x(xs[i] as number).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`);
  const legend = series.map((s) => `<span style="color:${s.color}">&#9632; ${esc(s.name)}</span>`).join("");
  return `<figure><figcaption>${esc(caption)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(caption)}">${frame(xMax, yMax, "seconds since start")}${lines.join("")}</svg><div class="legend">${legend}</div></figure>`;
}

function histogram(caption: string, values: readonly number[]): string {
  if (values.length === 0) return `<figure><figcaption>${esc(caption)}</figcaption><p>No transaction became final.</p></figure>`;
  const max = Math.max(...values);
  const bins = Math.min(20, Math.max(5, Math.ceil(Math.sqrt(values.length))));
  const width = max === 0 ? 1 : max / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(v / width))]! += 1;
  const yMax = Math.max(...counts);
  const x = (v: number) => PAD.left + (v / (width * bins)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const bars = counts.map((c, i) => `<rect x="${x(i * width).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(1, x((i + 1) * width) - x(i * width) - 1).toFixed(1)}" height="${(H - PAD.bottom - y(c)).toFixed(1)}" fill="${PALETTE[0]}"><title>${fmt(i * width)}-${fmt((i + 1) * width)} s: ${c}</title></rect>`);
  return `<figure><figcaption>${esc(caption)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(caption)}">${frame(width * bins, yMax, "seconds from submission to final")}${bars.join("")}</svg><div class="legend">${values.length} transactions</div></figure>`;
}
