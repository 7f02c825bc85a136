import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import boundaries from "eslint-plugin-boundaries";
import { elements, policies, QUERY_BUILDER_CALLS, SQL_MODULES } from "./eslint.layers.js";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "data/", "coverage/", ".bench/", ".node-lines/", "test-output/"] },
  js.configs.recommended,
  { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    // The Jest recipe's tests are CommonJS, with Jest's globals (docs/testing.md).
    files: ["examples/jest/**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node, ...globals.jest } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // One direction through src/ (eslint.layers.js): a lower floor never imports a higher one.
    files: ["src/**/*.ts"],
    plugins: { boundaries },
    settings: {
      "boundaries/elements": elements,
      "import/resolver": { typescript: { project: "tsconfig.json" } },
    },
    rules: {
      "boundaries/dependencies": [
        "error",
        {
          default: "disallow",
          message: "{{from.type}} may not import {{to.type}}: a module imports its own folder and lower floors only (eslint.layers.js)",
          checkAllOrigins: true,
          policies: [
            ...policies,
            { allow: { to: { module: { origin: ["external", "core"] } } } },
            {
              from: { element: { type: "!store" } },
              disallow: { to: { module: { origin: "external", source: SQL_MODULES } } },
              message: "only the store speaks SQL: {{from.type}} may not import kysely, better-sqlite3 or pg",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/store/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: `CallExpression[callee.property.name=/^(${QUERY_BUILDER_CALLS.join("|")})$/]`,
          message: "Only the store speaks SQL: add a function to src/store/ and call it.",
        },
      ],
    },
  },
  {
    // Tests read dynamic JSON bodies; typing every response shape would only restate the assertions.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
