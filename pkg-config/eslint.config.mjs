// ESLint over the page (www/), the page tests and the tooling scripts; run from the repository
// root by test.sh: `pkg-config/node_modules/.bin/eslint --config pkg-config/eslint.config.mjs`.
// With --config, ESLint matches the patterns below against paths from the working directory,
// so it must be started at the repository root.
// Generated and vendored code (www/pkg, www/vendor) and the data are not ours to lint.
import js from '@eslint/js';
import globals from 'globals';

export default [
  // Generated, vendored and downloaded files, wherever ESLint is started.
  { ignores: ['**/www/pkg/**', '**/www/vendor/**', '**/www/data/**', '**/target/**', '**/node_modules/**', '**/tests/artifacts/**'] },
  { ...js.configs.recommended, files: ['www/**/*.js', 'tests/page/**/*.mjs', 'pkg-config/**/*.mjs', 'pkg-config/**/*.js'] },
  {
    files: ['www/**/*.js', 'pkg-config/bench/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  { files: ['www/workers/**/*.js'], languageOptions: { globals: { ...globals.worker } } },
  { files: ['www/sw.js'], languageOptions: { globals: { ...globals.serviceworker } } },
  {
    files: ['tests/page/**/*.mjs', 'pkg-config/**/*.mjs'],
    // Node scripts; the functions they send to page.evaluate run in the browser.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
];
