// Lint and format in one pass: typescript-eslint's recommended rules, and Effect's dprint
// rule with the Effect repository's own formatting settings (`npm run lint -- --fix` formats).
import effect from "@effect/eslint-plugin"
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        Buffer: "readonly",
        console: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        performance: "readonly",
        AbortController: "readonly",
        URL: "readonly"
      }
    },
    plugins: { "@effect": effect },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_",
        varsIgnorePattern: "^_",
        ignoreRestSiblings: true
      }],
      "@typescript-eslint/no-explicit-any": "error"
    }
  },
  {
    // stdout belongs to the MCP protocol.
    files: ["src/**/*.ts"],
    rules: {
      "no-console": "error",
      // Called once, each makes 10-15 MB of ICU's data resident for the process's life (bench/HISTORY.md).
      "no-restricted-properties": [
        "error",
        ...["localeCompare", "toLocaleString", "toLocaleDateString", "toLocaleTimeString"].map(
          (property) => ({ property, message: "loads ICU's data (10-15 MB resident): compare or format plainly" })
        )
      ],
      "no-restricted-globals": ["error", { name: "Intl", message: "loads ICU's data (10-15 MB resident)" }]
    }
  }
)
