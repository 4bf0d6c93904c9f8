// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'worker_threads', 'inspector', 'vm', 'util', 'stream', 'crypto', 'module', 'url', 'events', 'net', 'http', 'https', 'zlib', 'process', 'buffer', 'readline', 'assert'];

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', '**/*.mjs', '**/*.js', 'samples/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // The kernel, the host code shared by the editor and the CLI, and the CLI are plain Node: no editor.
    files: ['kernel/**/*.ts', 'host/**/*.ts', 'cli/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only extension/ may import vscode.' }] }],
    },
  },
  {
    // Renderers run in the notebook webview: DOM only, and only types from the kernel's protocol.
    files: ['renderer/**/*.ts', 'common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Renderers run in a webview.' }, ...nodeBuiltins.map((n) => ({ name: n, message: 'Renderers run in a browser.' })), ...nodeBuiltins.map((n) => ({ name: `node:${n}`, message: 'Renderers run in a browser.' }))],
          patterns: [{ group: ['**/kernel/*', '!**/kernel/protocol'], message: 'Renderers import nothing from the kernel but protocol types.' }, { group: ['**/kernel/protocol'], allowTypeImports: true, message: 'Import protocol types with `import type`.' }],
        },
      ],
    },
  },
);
