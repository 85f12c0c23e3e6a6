import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
// esbuild: a devDependency (tsx runs on it too).
import { transformSync } from "esbuild";

const ROOT = join(import.meta.dirname, "../..");
/** Where the tests' CLI runs from: src/ transpiled to JavaScript, layout kept (gitignored). */
export const TEST_CLI_DIR = join(ROOT, "dist-test");

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sources(path);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) yield path;
  }
}

/**
 * Vitest global setup: the tests spawn the CLI a hundred times or more, and under tsx each start
 * transpiles and loads the sources again (seconds of CPU each). Transpiled once here, without type
 * checks (`npm test` runs tsc first), each start costs what the installed binary's does. File by
 * file, the layout kept, with esbuild: TypeScript's transpileModule took 11.3 s of CPU for the 252
 * files at load 30, esbuild 1.2 s, and this runs before any test file does.
 */
export default function buildTestCli(): void {
  // Each vitest project runs the global setup: build once per run. (Not a MESHCHAIN_ variable: the
  // CLI refuses unknown ones, and the spawned CLIs inherit this environment.)
  if (process.env.TEST_CLI_BUILT_INTO === TEST_CLI_DIR) return;
  const src = join(ROOT, "src");
  for (const file of sources(src)) {
    const out = transformSync(readFileSync(file, "utf8"), { loader: "ts", format: "esm", target: "es2022", sourcefile: file });
    const target = join(TEST_CLI_DIR, relative(src, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    // Written aside and renamed: a CLI another run starts meanwhile reads a whole file, old or new.
    writeFileSync(`${target}.${process.pid}`, out.code);
    renameSync(`${target}.${process.pid}`, target);
  }
  process.env.TEST_CLI_BUILT_INTO = TEST_CLI_DIR;
}
