// Lint config: typescript-eslint's recommended rules over src/, plain recommended rules for the
// JavaScript in test/, examples/, bench/ and demo/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from './eslint.globals.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/api/', 'bench/results/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: { globals },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
