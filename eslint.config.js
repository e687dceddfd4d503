// Lint: typescript-eslint with type information, the project's own rules (scripts/eslint/gas-rules.js)
// and Prettier for formatting (eslint-config-prettier turns off the rules Prettier owns).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import gas from './scripts/eslint/gas-rules.js';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', 'packages/proto/src/gen/**', '**/dist/**', '.gas/**', '.gas-test/**', '.gas-bench/**', '.tap/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { gas },
    rules: {
      'gas/no-cross-service-import': 'error',
      'gas/metric-name': 'error',
      // A leading underscore marks a parameter an interface requires but this implementation ignores.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Async methods that implement a promise-returning interface need no await of their own.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    rules: { 'gas/env-only-in-config': 'error' },
  },
  {
    // The gateway reads the engine's formats (the VCF sniff, TSV columns, result kinds, the summary's
    // type), never the engine itself: loading it would cost every gateway replica its memory.
    files: ['services/gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@gas/anntools', message: 'import @gas/anntools/format: the gateway needs the formats, not the engine' }] },
      ],
    },
  },
  {
    // tap runs subtests whether or not their promise is awaited; an assertion's promise
    // (t.rejects, t.resolves) must still be awaited.
    files: ['**/test/**/*.ts', 'tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    // The scripts the gateway's pages load in the browser.
    files: ['services/gateway/static/**/*.js'],
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'script', globals: globals.browser },
  },
  prettier,
);
