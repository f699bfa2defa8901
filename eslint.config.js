// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.stack/', 'coverage/', 'scratch/', 'src/contracts/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // Fastify hooks and handlers are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Imports point one way (CONVENTIONS item 1): the pure engine layers never import I/O.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/ksql/parser/**', 'src/ksql/analyzer/**', 'src/ksql/planner/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['kafkajs', 'node:fs', 'node:fs/*', 'fs', 'ioredis', 'pg', 'node:net', 'node:http'],
              message: 'pure layer: no I/O',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'pure layer: no process.env' }],
    },
  },
  {
    // vitest's asymmetric matchers (expect.stringContaining...) are typed `any`.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
