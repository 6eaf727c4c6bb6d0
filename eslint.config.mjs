// Lint for defects, not style (Prettier owns formatting). typescript-eslint rather than Biome: the
// defects worth catching here (floating and misused promises, `any` from JSON.parse / postMessage /
// IPC flowing into typed code) need the type checker, which typescript-eslint's typed rules use and
// Biome's rules don't have.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const vscodeOnlyInExtension = { name: 'vscode', message: 'Only src/extension/** may import vscode.' };
const ortOnlyInSession = {
  name: 'onnxruntime-node',
  message: 'Only src/trainer/engine/session.ts may import onnxruntime-node (the engine wraps it).',
};

const unsafeAny = {
  '@typescript-eslint/no-unsafe-assignment': 'error',
  '@typescript-eslint/no-unsafe-member-access': 'error',
  '@typescript-eslint/no-unsafe-argument': 'error',
  '@typescript-eslint/no-unsafe-return': 'error',
  '@typescript-eslint/no-unsafe-call': 'error',
};

export default defineConfig(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', 'test-output/**', 'scratch/**', 'examples/**', 'test/fixtures/**'],
  },
  {
    files: ['**/*.ts', '**/*.mjs'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-fallthrough': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  // .mjs scripts are outside tsconfig: parse them without type information.
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },

  // `any` must not flow out of parsed messages and files unchecked.
  { files: ['src/**/*.ts'], rules: unsafeAny },
  // Import cycles inside src (the bundles); tests and benches only import from it.
  { files: ['src/**/*.ts'], rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] } },

  // Layering. Packages: core no-restricted-imports; folders: import-x/no-restricted-paths (resolved paths).
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [vscodeOnlyInExtension, ortOnlyInSession] }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: 'src/webview', from: ['src/trainer', 'src/extension'], message: 'The webview bundle runs in the browser.' },
            { target: 'src/shared', from: ['src/trainer', 'src/extension', 'src/webview'], message: 'src/shared depends on nothing in src.' },
            { target: 'src/trainer', from: ['src/extension', 'src/webview'], message: 'The trainer runs without VS Code.' },
            { target: 'src/extension', from: ['src/trainer'], message: 'src/extension must not import src/trainer: shared code lives in src/shared.' },
          ],
        },
      ],
    },
  },
  { files: ['src/extension/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [ortOnlyInSession] }] } },
  { files: ['src/trainer/engine/session.ts'], rules: { 'no-restricted-imports': ['error', { paths: [vscodeOnlyInExtension] }] } },
  {
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            vscodeOnlyInExtension,
            ortOnlyInSession,
            ...nodeBuiltins.map((name) => ({ name, message: 'The webview runs in the browser: no Node built-ins.' })),
          ],
        },
      ],
    },
  },
);
