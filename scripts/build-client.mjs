// Builds the client SDK (client/): the browser ESM bundle the admin port serves at
// /client/ferry-client.js, a Node ESM bundle, and type declarations for both.
//   client/dist/ferry-client.js   browser: WebTransport + WebSocket, everything inlined
//   client/dist/node.js           Node: + TCP and Ferry's HTTP/3 client; npm packages stay external
//   client/dist/types/            .d.ts (entry points: client/src/index.d.ts, client/src/node.d.ts)
//   client/dist/console.js        the operator console's page script (client/console/), uPlot inlined
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'client', 'dist');
const shim = join(root, 'client', 'src', 'shims', 'node-buffer.ts');
rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: [join(root, 'client', 'src', 'index.ts')],
  outfile: join(out, 'ferry-client.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  // The shared codec (src/protocol) uses node:buffer; browsers get the `buffer` package plus a
  // TextDecoder-based isUtf8.
  alias: { 'node:buffer': shim },
  inject: [shim],
  sourcemap: true,
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
});

await build({
  entryPoints: [join(root, 'client', 'src', 'node.ts')],
  outfile: join(out, 'node.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: ['node20'],
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'client', 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);

// The operator console (served at /console/app.js): type-checked with the DOM library, then bundled with
// the chart library and its CSS inlined, so the page needs nothing beyond the admin port.
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'client', 'console', 'tsconfig.json'),
  ],
  { stdio: 'inherit' },
);
await build({
  entryPoints: [join(root, 'client', 'console', 'app.ts')],
  outfile: join(out, 'console.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  loader: { '.css': 'text' },
  minify: true,
  // uPlot's MIT notice stays at the end of the file.
  legalComments: 'eof',
  logLevel: 'warning',
});
