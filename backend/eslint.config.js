// ESLint for the API (src, test, scripts): the recommended JS and typescript-eslint rules. Type errors are
// tsc's job (`npm run lint` runs both); this catches what the compiler lets through.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "web/", "pose-service/", "scratch-*/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          // Express knows an error handler by its four parameters, so `_next` must stay though unused.
          argsIgnorePattern: "^_",
          // `const { owner: _owner, ...view } = doc` is how the code drops a field from a copy.
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests parse untyped JSON (ffprobe output, SSE payloads) and assert on its shape field by field; typing
    // each such payload would restate the assertions. Production code stays without `any`.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
