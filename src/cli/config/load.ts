import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { MeshChainError } from "../../core/errors.js";
import { CONFIG_LEAVES, type ConfigLeaf, configSchema, envNameOf, leafByPath, type MeshChainConfig, PATH_SETTINGS, SECRET_ENV } from "./schema.js";

export type ConfigErrorCode = "CONFIG_NOT_FOUND" | "CONFIG_SYNTAX" | "CONFIG_INVALID" | "SECRET_UNREADABLE";

/** A configuration problem; `issues` name each key path at fault, its source and what was expected. */
export class ConfigError extends MeshChainError<ConfigErrorCode> {
  constructor(code: ConfigErrorCode, message: string, readonly issues: readonly string[] = []) {
    super(code, issues.length === 0 ? message : `${message}:\n  ${issues.join("\n  ")}`);
  }
}

/** Where a setting's value came from, for error messages and `config show`. */
export type ConfigSource = "default" | `file ${string}` | `env ${string}` | `flag --${string}`;

export interface LoadedConfig {
  readonly config: MeshChainConfig;
  readonly sources: ReadonlyMap<string, ConfigSource>;
}

type Tree = Record<string, unknown>;

/** Environment variables in our namespace that tooling (benchmarks, simulator soaks) reads, not the node. */
const TOOLING_ENV = /^MESHCHAIN_(BENCH|SIM|SAFETY)_/;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

function leafPaths(tree: Tree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) ? leafPaths(v as Tree, path) : [path];
  });
}

/** Text from the environment or a flag, typed as its setting expects; left as text when it is not, for the schema to report. */
function fromText(leaf: ConfigLeaf, text: string): unknown {
  if (leaf.type === "integer") return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : text;
  if (leaf.type === "boolean") return text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text;
  return text;
}

export function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("CONFIG_NOT_FOUND", `cannot read config file ${file}: ${(e as Error).message}`);
  }
  try {
    // Plain objects, so that the schema's key checks see ordinary properties.
    return JSON.parse(JSON.stringify(parseToml(text))) as Tree;
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError("CONFIG_SYNTAX", `${file} is not valid TOML (line ${e.line}, column ${e.column}): ${e.message.split("\n")[0] ?? ""}`);
    throw new ConfigError("CONFIG_SYNTAX", `${file}: ${(e as Error).message}`);
  }
}

function valueAt(tree: Tree, path: readonly PropertyKey[]): unknown {
  let node: unknown = tree;
  for (const key of path) node = typeof node === "object" && node !== null ? (node as Tree)[String(key)] : undefined;
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, tree: Tree, sources: ReadonlyMap<string, ConfigSource>): string[] {
  const at = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const path = at === "" ? k : `${at}.${k}`;
      return `${path} (${sources.get(path) ?? "file"}): unknown key${suggestion(path)}`;
    });
  }
  const leaf = leafByPath(at);
  const got = JSON.stringify(valueAt(tree, issue.path)) ?? "nothing";
  // A pattern's own message says what it wants; otherwise the setting's type and bounds do.
  const expected = leaf === undefined || (leaf.type === "string" && leaf.choices === undefined) ? issue.message : `expected ${expectation(leaf)}`;
  return [`${at} (${sources.get(at) ?? "default"}): ${expected}, got ${got}`];
}

function expectation(leaf: ConfigLeaf): string {
  if (leaf.choices !== undefined) return `one of ${leaf.choices.join(", ")}`;
  if (leaf.type === "integer") return `an integer from ${leaf.minimum ?? 0} to ${leaf.maximum ?? "∞"}`;
  return leaf.type === "boolean" ? "true or false" : "a string";
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] ?? 0;
}

/** The setting a misspelt key most likely meant, if one is close. */
function suggestion(path: string): string {
  const squash = (p: string) => p.toLowerCase().replace(/[^a-z0-9]/g, "");
  let best: { path: string; distance: number } | null = null;
  for (const leaf of CONFIG_LEAVES) {
    const distance = editDistance(squash(path), squash(leaf.path));
    if (distance <= 3 && (best === null || distance < best.distance)) best = { path: leaf.path, distance };
  }
  return best === null ? "" : `; did you mean ${best.path}?`;
}

export interface ConfigInputs {
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by setting path (strings as commander gives them, booleans for switches). */
  readonly flags?: Readonly<Record<string, { readonly flag: string; readonly value: string | boolean }>>;
}

/** The effective configuration: schema defaults < file < `MESHCHAIN_*` environment < flags. */
export function loadConfig(inputs: ConfigInputs): LoadedConfig {
  const sources = new Map<string, ConfigSource>();
  const tree: Tree = inputs.file === undefined ? {} : readConfigFile(inputs.file);
  for (const path of leafPaths(tree)) sources.set(path, `file ${inputs.file ?? ""}`);
  // A service runs from /, so a path in the file means the same wherever the file is read from.
  if (inputs.file !== undefined) {
    const base = dirname(resolve(inputs.file));
    for (const path of PATH_SETTINGS) {
      const value = valueAt(tree, path.split("."));
      if (typeof value === "string" && value !== "" && !isAbsolute(value)) setPath(tree, path, resolve(base, value));
    }
  }
  const issues: string[] = [];
  const secretNames = new Set<string>(Object.values(SECRET_ENV));
  for (const [name, text] of Object.entries(inputs.env ?? {})) {
    if (!name.startsWith("MESHCHAIN_") || text === undefined || secretNames.has(name) || TOOLING_ENV.test(name)) continue;
    const leaf = CONFIG_LEAVES.find((l) => l.env === name);
    if (leaf === undefined) {
      const hint = suggestion(name.slice("MESHCHAIN_".length));
      issues.push(`${name} (env): not a MeshChain setting${hint === "" ? "" : `${hint.replace(/did you mean (\S+)\?/, (_m, p: string) => `did you mean ${envNameOf(p)}?`)}`}`);
      continue;
    }
    setPath(tree, leaf.path, fromText(leaf, text));
    sources.set(leaf.path, `env ${name}`);
  }
  for (const [path, { flag, value }] of Object.entries(inputs.flags ?? {})) {
    const leaf = leafByPath(path);
    if (leaf === undefined) throw new Error(`flag ${flag} names no setting (${path})`);
    setPath(tree, path, typeof value === "string" ? fromText(leaf, value) : value);
    sources.set(path, `flag --${flag.replace(/^--/, "")}`);
  }
  const result = configSchema.safeParse(tree);
  if (!result.success) issues.push(...result.error.issues.flatMap((i) => describeIssue(i, tree, sources)));
  if (issues.length > 0 || !result.success) throw new ConfigError("CONFIG_INVALID", "invalid configuration", issues);
  return { config: result.data, sources };
}
