import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Import paths into the named layers from any depth below src/ (src/x/, src/x/y/, src/x/y/z/). */
const above = (layers) => layers.flatMap((l) => [`../${l}/*`, `../../${l}/*`, `../../../${l}/*`]);

export default tseslint.config(
  { ignores: ["dist/**", "dist-check/**", "dist-test/**", "node_modules/**", "data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { patterns: [{ group: ["../*/../*"], message: "import through a layer's own path" }] }],
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: above(["storage", "mesh", "consensus", "node", "devnet", "api", "cli", "bench"]), message: "core/ imports nothing above it (DESIGN.md §4)" },
        ],
        paths: [
          { name: "node:fs", message: "core/ is pure: no I/O" },
          { name: "better-sqlite3", message: "core/ is pure: no I/O" },
        ],
      }],
    },
  },
  {
    files: ["src/mesh/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["consensus", "node", "devnet", "api", "cli", "bench"]), message: "mesh/ imports only core/ and storage/ (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/consensus/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["node", "devnet", "api", "cli", "bench"]), message: "consensus/ imports only the layers below it (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/node/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["devnet", "api", "cli", "bench"]), message: "node/ imports only the layers below it (DESIGN.md §4)" }],
      }],
    },
  },
  {
    // The devnet composes the node's services over the simulator: above node/, below the CLI that runs it.
    files: ["src/devnet/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["api", "cli", "bench"]), message: "devnet/ imports only the layers below it (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/api/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["devnet", "cli", "bench"]), message: "api/ imports only the layers below it (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["bench"]), message: "cli/ does not import the benchmarks (they are a tool beside it)" }],
      }],
    },
  },
  {
    files: ["src/bench/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["cli", "api"]), message: "bench/ measures the layers up to node/; it does not drive the CLI or the API" }],
      }],
    },
  },
  {
    files: ["src/storage/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above(["mesh", "consensus", "node", "devnet", "api", "cli", "bench"]), message: "storage/ imports only core/ (DESIGN.md §4)" }],
      }],
    },
  },
);
