import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'src/protocol/generated/**',
      'coverage/**',
      'client/dist/**',
      'bench/.build/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name=/^(it|describe|context)$/][callee.property.name=/^(only|skip)$/]',
          message: 'No .only/.skip in tests.',
        },
      ],
    },
  },
  // TypeScript checks names itself; no-undef only misfires on type-only globals there.
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
);
