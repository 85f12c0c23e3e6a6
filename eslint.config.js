import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "dist-check/**", "node_modules/**", "data/**"] },
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
          { group: ["../storage/*", "../../storage/*", "../mesh/*", "../../mesh/*", "../consensus/*", "../../consensus/*", "../node/*", "../../node/*", "../api/*", "../../api/*", "../cli/*", "../../cli/*"], message: "core/ imports nothing above it (DESIGN.md §4)" },
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
        patterns: [{ group: ["../consensus/*", "../../consensus/*", "../node/*", "../../node/*", "../api/*", "../../api/*", "../cli/*", "../../cli/*"], message: "mesh/ imports only core/ and storage/ (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/consensus/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["../node/*", "../../node/*", "../api/*", "../../api/*", "../cli/*", "../../cli/*"], message: "consensus/ imports only the layers below it (DESIGN.md §4)" }],
      }],
    },
  },
  {
    files: ["src/storage/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["../mesh/*", "../consensus/*", "../node/*", "../api/*", "../cli/*"], message: "storage/ imports only core/ (DESIGN.md §4)" }],
      }],
    },
  },
);
