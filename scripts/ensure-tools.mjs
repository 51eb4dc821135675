// Makes sure the system tools the test suite drives are present: a real redis-server, a real
// rabbitmq-server (its own scripts in /usr/lib/rabbitmq/bin: the tests start brokers of their own),
// headless Chromium and Firefox ESR, Debian's python3-websockets for /usr/bin/python3 (the Python
// reference client in examples/python/ runs against a real node), and the ngtcp2/GnuTLS libraries of
// the native QUIC engine (whose addon it then builds, since the WebTransport suites run on both
// engines). On Debian as root it installs what is missing with apt-get (only when absent); anywhere
// else it stops with the one command to run. It never lets tests run without them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'native', 'quic', 'build', 'Release', 'ferry_quic.node');

const tools = [
  { name: 'redis-server', pkg: 'redis-server', present: () => onPath('redis-server') },
  {
    name: 'rabbitmq-server',
    pkg: 'rabbitmq-server',
    present: () => existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server'),
  },
  { name: 'chromium', pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  { name: 'firefox-esr', pkg: 'firefox-esr', present: () => existsSync('/usr/bin/firefox-esr') },
  { name: 'openssl', pkg: 'openssl', present: () => onPath('openssl') },
  {
    name: 'ngtcp2 (native QUIC engine)',
    pkg: 'libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev',
    present: () => existsSync('/usr/include/ngtcp2/ngtcp2_crypto_gnutls.h'),
  },
  {
    name: 'python3-websockets',
    pkg: 'python3-websockets',
    present: () =>
      spawnSync('/usr/bin/python3', ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0,
  },
];

/** The addon is built by `npm install`; build it here when the libraries arrived after that. */
function ensureAddon() {
  if (existsSync(addon)) return;
  spawnSync(process.execPath, [join(root, 'scripts', 'build-quic-addon.mjs')], { stdio: 'inherit' });
  if (!existsSync(addon)) {
    console.error(
      'ferry tests: the native QUIC engine did not build (see above); the suite runs on both engines.',
    );
    process.exit(1);
  }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = tools.filter((t) => !t.present());
if (missing.length === 0) {
  ensureAddon();
  process.exit(0);
}

const pkgs = missing.flatMap((t) => t.pkg.split(' '));
const command = `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(
    `ferry tests need: ${missing.map((t) => t.name).join(', ')}. Install them first, e.g.:\n  sudo ${command}`,
  );
  process.exit(1);
}
console.error(`ferry tests: installing ${pkgs.join(', ')} with apt-get (one-time)...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], {
  stdio: 'inherit',
  env,
});
const still = missing.filter((t) => !t.present());
if (still.length > 0) {
  console.error(`ferry tests: still missing after apt-get: ${still.map((t) => t.name).join(', ')}`);
  process.exit(1);
}
ensureAddon();
