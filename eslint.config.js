import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * Layer boundaries (docs/architecture.md, "Layers"): which top-level parts of src/ each layer may
 * import. Everything else in src/ is refused, including the composition roots (gateway.ts, cli.ts,
 * index.ts) and any layer added later, until it is listed here. `config` stands for the configuration
 * modules (config*.ts, config/). An entry `layer/file` allows one file of a layer and no other.
 * Checked on the import string, which is unambiguous for relative imports: from a file N folders
 * below src/, exactly N `../` reach src/.
 */
const LAYERS = {
  observability: ['errors'],
  protocol: ['errors'],
  webtransport: [],
  transport: ['errors', 'observability', 'protocol', 'webtransport'],
  auth: ['errors', 'protocol', 'config'],
  bus: ['errors', 'transport'],
  store: ['errors', 'bus'],
  cluster: ['errors', 'observability', 'config', 'transport', 'bus', 'store'],
  routing: ['errors', 'observability', 'protocol', 'transport', 'bus', 'store'],
  // The gRPC service of upstreams reuses the access API's lazy request decoding.
  upstream: ['errors', 'observability', 'config', 'protocol', 'routing', 'access/deferred-decoding'],
  session: [
    'errors',
    'observability',
    'config',
    'protocol',
    'transport',
    'auth',
    'bus',
    'store',
    'routing',
    'upstream',
  ],
  access: ['errors', 'observability', 'config', 'protocol', 'transport', 'auth', 'bus', 'store', 'routing'],
  admin: ['errors', 'observability', 'config', 'auth', 'webtransport'],
  // The operator console reads the cluster's samples and acts through the access API's service.
  console: ['errors', 'observability', 'config', 'auth', 'cluster', 'access', 'admin'],
  // The ops commands are gRPC clients of the access API.
  'cli-ops': ['errors', 'auth', 'access'],
};

const SRC_ENTRIES = readdirSync(new URL('./src/', import.meta.url))
  .filter((name) => !name.endsWith('.d.ts'))
  .map((name) => name.replace(/\.ts$/, ''));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const isConfig = (entry) => entry === 'config' || entry.startsWith('config-');
/** `webtransport/` is entered through its index.ts (it says so); tests may reach inside. */
const webtransportIndex = (up) => ({
  regex: `^${up}webtransport/(?!index\\.js$)`,
  message: 'Import src/webtransport/ through its index.ts only.',
});
const MAX_DEPTH = 4;

function layerBlocks(layer, allowed) {
  const whole = allowed.filter((a) => !a.includes('/'));
  const files = new Map();
  for (const a of allowed.filter((x) => x.includes('/'))) {
    const [dir, file] = a.split('/');
    files.set(dir, [...(files.get(dir) ?? []), file]);
  }
  const forbidden = SRC_ENTRIES.filter(
    (e) => e !== layer && !whole.includes(e) && !(whole.includes('config') && isConfig(e)),
  ).map((e) =>
    files.has(e) ? `${escape(e)}(?!/(?:${files.get(e).map(escape).join('|')})\\.js$)` : escape(e),
  );
  const message = `src/${layer}/ may import only ${allowed.join(', ') || 'itself'} (docs/architecture.md, "Layers").`;
  const blocks = [];
  for (let depth = 1; depth <= MAX_DEPTH; depth++) {
    const up = '\\.\\./'.repeat(depth);
    const patterns = [{ regex: `^${up}(?:${forbidden.join('|')})(?:/|\\.js$)`, message }];
    if (layer !== 'webtransport') patterns.push(webtransportIndex(up));
    blocks.push({
      files: [`src/${layer}/${'*/'.repeat(depth - 1)}*.ts`],
      rules: { 'no-restricted-imports': ['error', { patterns }] },
    });
  }
  return blocks;
}

/** Outside the listed layers (composition roots, configuration, the client SDK): only the index rule. */
const indexOnlyBlocks = [
  ...Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
    files: [`src/${'*/'.repeat(depth)}*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [webtransportIndex(depth === 0 ? '\\./' : '\\.\\./'.repeat(depth))] },
      ],
    },
  })),
  {
    files: ['client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/src/webtransport/(?!index\\.js$)',
              message: 'Import src/webtransport/ through its index.ts only.',
            },
          ],
        },
      ],
    },
  },
];

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
  // Type-aware checks: a promise is awaited, handled, or deliberately `void`ed (with a comment saying
  // why its failure does not matter); no promise where a callback's result is ignored.
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...indexOnlyBlocks,
  ...Object.entries(LAYERS).flatMap(([layer, allowed]) => layerBlocks(layer, allowed)),
);
