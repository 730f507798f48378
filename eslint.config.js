// Lint: typescript-eslint's recommended rules plus the type-aware ones that catch async mistakes
// (OpenTelemetry JS keeps no-floating-promises on for the same reason).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The dashboard's browser assets are plain files served as they are, outside the TS project.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'bench/results/**',
      '.tmp/**',
      'eslint.config.js',
      'scripts/**',
      'src/**/assets/**',
      'test/artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `void p` is no handling either: a voided promise that rejects is still an unhandled rejection,
      // which ends the process (a scrape whose read failed did exactly that). Handle it with .catch.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          ignoreVoid: false,
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['it', 'describe', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['test/**', 'bench/**'], rules: { 'no-console': 'off' } },
);
