// ESLint for the web app: the recommended JS and typescript-eslint rules everywhere; React's hook rules and
// react-refresh's component-export check for the browser code in src/; Node globals for the server and the
// browser tests (server/, e2e/, .mjs). Type errors are tsc's job (`npm run lint` runs both).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import reactRefresh from "eslint-plugin-react-refresh";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    languageOptions: { ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          // A test double's handler keeps the real signature (`(_url, init) => ...`) though it ignores an argument.
          argsIgnorePattern: "^_",
          // `const { owner, ...rest } = video` is how the code drops fields from a copy.
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks, "react-refresh": reactRefresh },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Two of the React Compiler rules in the recommended set are off: the app is not built with the compiler,
      // and each fires only on a deliberate pattern used throughout src/: `refs` on the "latest value" ref
      // written during render (`latest.current = video`) that long-lived callbacks read, `set-state-in-effect`
      // on loaders that show "loading" then fetch when their key changes. rules-of-hooks, exhaustive-deps and
      // the other compiler rules stay on.
      "react-hooks/refs": "off",
      "react-hooks/set-state-in-effect": "off",
      "react-refresh/only-export-components": ["error", { allowConstantExport: true }],
    },
  },
  {
    // These modules export a hook or pure helpers beside their component, unit-tested from that module; the
    // only cost is a full page reload instead of a hot refresh when one changes (dev server only). New modules
    // are still checked.
    files: [
      "src/components/OwnerPicker.tsx",
      "src/components/ShareDialog.tsx",
      "src/components/Skeleton3D.tsx",
      "src/components/SummaryCards.tsx",
      "src/components/TimeSeriesChart.tsx",
      "src/session/SessionContext.tsx",
      "src/views/AnalysisView.tsx",
      "src/views/LiveAnalysis.tsx",
    ],
    rules: { "react-refresh/only-export-components": "off" },
  },
  {
    files: ["server/**", "e2e/**", "*.js", "*.mjs", "vite.config.ts"],
    languageOptions: { globals: globals.node },
  },
  {
    // The browser tests hand functions to page.evaluate / waitForFunction; those bodies run in the page.
    files: ["e2e/**"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
