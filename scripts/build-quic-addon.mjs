// Builds the native QUIC engine (native/quic/, ngtcp2 + GnuTLS) with node-gyp. Run by `npm install`
// (the package's install script) and by ensure-tools after it installed the Debian libraries. It
// never fails: without the libraries or a compiler the node runs on @matrixai/quic, and this says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'native', 'quic');
const built = join(addonDir, 'build', 'Release', 'ferry_quic.node');
const PACKAGES = 'libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev';
const HEADERS = ['/usr/include/ngtcp2/ngtcp2_crypto_gnutls.h', '/usr/include/gnutls/gnutls.h'];

function skip(why) {
  console.error(`ferry: native QUIC engine not built (${why}); WebTransport runs on @matrixai/quic.`);
  console.error(`       To build it: apt-get install -y ${PACKAGES} && npm run build:quic`);
  process.exit(0);
}

if (process.platform !== 'linux') skip('Linux only');
const missing = HEADERS.filter((h) => !existsSync(h));
if (missing.length > 0) skip(`missing ${missing.join(', ')}`);

// npm hands lifecycle scripts its bundled node-gyp; outside npm, look for it next to node.
const candidates = [
  process.env.npm_config_node_gyp,
  join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  ),
].filter((p) => p !== undefined && existsSync(p));
if (candidates.length === 0) skip('node-gyp not found');
// Node's own headers (Debian's nodejs ships them in /usr/include/node): node-gyp needs no download.
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
const args = [candidates[0], 'rebuild', ...(nodedir !== undefined ? [`--nodedir=${nodedir}`] : [])];
const result = spawnSync(process.execPath, args, {
  cwd: addonDir,
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
});
if (result.status !== 0 || !existsSync(built)) {
  const tail = (result.stderr ?? '')
    .split('\n')
    .filter((l) => /error/i.test(l))
    .slice(-5)
    .join('\n');
  skip(`node-gyp failed${tail ? `:\n${tail}` : ''}`);
}
console.error(
  'ferry: native QUIC engine built (native/quic/build/Release/ferry_quic.node); --wt-engine native uses it.',
);
