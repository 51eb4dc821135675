// Makes sure the system tools the test suite drives are present: a real redis-server, a real
// rabbitmq-server (its own scripts in /usr/lib/rabbitmq/bin: the tests start brokers of their own),
// headless Chromium and Firefox ESR. On Debian as root it installs what is missing with apt-get (only when
// absent); anywhere else it stops with the one command to run. It never lets tests run without them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = tools.filter((t) => !t.present());
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((t) => t.pkg);
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
