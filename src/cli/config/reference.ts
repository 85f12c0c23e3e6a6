import { CONFIG_LEAVES, type ConfigLeaf, SECRET_ENV } from "./schema.js";
import { START_FLAGS } from "./flags.js";

const BEGIN = "<!-- config-table:begin -->";
const END = "<!-- config-table:end -->";

function rule(leaf: ConfigLeaf): string {
  if (leaf.choices !== undefined) return leaf.choices.map((c) => `\`${c}\``).join(", ");
  if (leaf.type === "integer") return `integer ${leaf.minimum ?? 0}–${leaf.maximum ?? "∞"}`;
  return leaf.type;
}

const escape = (text: string): string => text.replace(/\|/g, "\\|");

/** The reference table of docs/configuration.md, between its markers. */
export function renderConfigTable(): string {
  const rows = CONFIG_LEAVES.map((leaf) => {
    const flag = START_FLAGS.find((f) => f.path === leaf.path)?.flag;
    const def = leaf.defaultValue === undefined ? "—" : `\`${JSON.stringify(leaf.defaultValue)}\``;
    return `| \`${leaf.path}\` | ${escape(rule(leaf))} | ${def} | \`${leaf.env}\` | ${flag === undefined ? "—" : `\`${flag}\``} | ${escape(leaf.description)} |`;
  });
  const secrets = Object.values(SECRET_ENV).map((name) => `\`${name}\``).join(", ");
  return [
    BEGIN,
    "| key | type | default | environment | flag | meaning |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    `Secrets are not settings: they come from the \`*_file\` settings above or from ${secrets}.`,
    END,
  ].join("\n");
}

/** `doc` with its generated table replaced by the current one; null when the markers are missing. */
export function withConfigTable(doc: string): string | null {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) return null;
  return `${doc.slice(0, start)}${renderConfigTable()}${doc.slice(end + END.length)}`;
}
