import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { JwtAuthenticator } from '../../src/auth/jwt/jwt-authenticator.js';
import { main, type CliIo } from '../../src/cli/cli.js';
import { SETTINGS } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { TIME_FACTOR } from '../helpers/time-factor.js';

const SECRET = 'cli-test-secret-that-is-long-enough';

/** Runs the CLI in-process with captured output; `exits` records every io.exit call. */
async function run(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd: string }) {
  const out = {
    stdout: '',
    stderr: '',
    exits: [] as number[],
    signals: new Map<string, (s: string) => void>(),
  };
  const io: Partial<CliIo> = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    exit: (code) => void out.exits.push(code),
    env: opts.env ?? {},
    cwd: opts.cwd,
    onSignal: (signal, handler) => void out.signals.set(signal, handler),
  };
  await main(['node', 'ferry', ...args], io);
  return out;
}

/** Commander wraps help text; compare with runs of whitespace collapsed. */
const flat = (s: string): string => s.replace(/\s+/g, ' ');

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ferry CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const quietPorts = [
    '--ws-port',
    '0',
    '--tcp-port',
    '0',
    '--wt-port',
    '0',
    '--grpc-port',
    '0',
    '--admin-port',
    '0',
  ];

  describe('--help', () => {
    for (const command of [['start'], ['config', 'print']]) {
      it(`${command.join(' ')} lists every setting flag with its default and env variable`, async () => {
        const { stdout, exits } = await run([...command, '--help'], { cwd: dir });
        expect(exits).to.deep.equal([]);
        const help = flat(stdout);
        for (const s of SETTINGS) {
          expect(help).to.include(s.negate ? `--no-${s.flag}` : `--${s.flag} <`);
          expect(help).to.include(s.negate ? `env: ${s.env}=false` : `env: ${s.env})`);
        }
        expect(help).to.include(
          '--ws-port <port> WebSocket port (0 = any free) (default: 8080; env: FERRY_WS_PORT)',
        );
        expect(help).to.include(
          '--heartbeat <duration> server ping interval (default: 25s; env: FERRY_HEARTBEAT)',
        );
        expect(help).to.include('--config <path>');
      });
    }
  });

  describe('token', () => {
    it('creates the dev secret on first use and signs a token the node accepts', async () => {
      const dataDir = join(dir, 'data');
      const { stdout, stderr, exits } = await run(['token', '--user', 'alice', '--data-dir', dataDir], {
        cwd: dir,
      });
      expect(exits).to.deep.equal([]);
      expect(stderr).to.equal('');
      const token = stdout.trim();
      expect(stdout).to.equal(`${token}\n`);
      expect(decodeProtectedHeader(token).kid).to.equal('dev');

      // What `ferry start --data-dir <dataDir>` would verify with.
      const auth = await JwtAuthenticator.fromConfig(loadConfig({ env: {}, cwd: dir, flags: { dataDir } }));
      const id = await auth.authenticate(token);
      expect(id.userId).to.equal('alice');
      expect(id.expiresAtMs - Date.now()).to.be.within(3590_000, 3601_000);

      const again = await run(['token', '--user', 'bob', '--data-dir', dataDir], { cwd: dir });
      expect((await auth.authenticate(again.stdout.trim())).userId).to.equal('bob');
    });

    it('binds a device and honours --ttl', async () => {
      const { stdout } = await run(['token', '--user', 'alice', '--device', 'tab-1', '--ttl', '10m'], {
        cwd: dir,
      });
      const claims = decodeJwt(stdout.trim());
      expect(claims.did).to.equal('tab-1');
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).to.be.within(600, 601);
    });

    it('signs with the configured kid-less secret (FERRY_AUTH_SECRET) and the configured issuer', async () => {
      writeFileSync(join(dir, 'ferry.config.json'), JSON.stringify({ auth: { issuer: 'dev-idp' } }));
      const env = { FERRY_AUTH_SECRET: SECRET };
      const { stdout } = await run(['token', '--user', 'carol'], { cwd: dir, env });
      const token = stdout.trim();
      expect(decodeProtectedHeader(token)).to.not.have.property('kid');
      const auth = await JwtAuthenticator.fromConfig(loadConfig({ env, cwd: dir }));
      expect((await auth.authenticate(token)).userId).to.equal('carol');
      expect(decodeJwt(token).iss).to.equal('dev-idp');
    });

    it('picks a configured secret with --kid, or uses --secret', async () => {
      writeFileSync(
        join(dir, 'ferry.config.json'),
        JSON.stringify({ auth: { hmacSecrets: { k1: SECRET, k2: `${SECRET}-2` } } }),
      );
      const auth = await JwtAuthenticator.fromConfig(loadConfig({ env: {}, cwd: dir }));
      const withKid = await run(['token', '--user', 'dan', '--kid', 'k2'], { cwd: dir });
      expect(decodeProtectedHeader(withKid.stdout.trim()).kid).to.equal('k2');
      expect((await auth.authenticate(withKid.stdout.trim())).userId).to.equal('dan');

      const withSecret = await run(['token', '--user', 'eve', '--secret', SECRET, '--kid', 'k1'], {
        cwd: dir,
      });
      expect((await auth.authenticate(withSecret.stdout.trim())).userId).to.equal('eve');
    });

    it('exits 2 with one message when it cannot choose or parse', async () => {
      writeFileSync(
        join(dir, 'ferry.config.json'),
        JSON.stringify({ auth: { hmacSecrets: { k1: SECRET, k2: `${SECRET}-2` } } }),
      );
      const ambiguous = await run(['token', '--user', 'x'], { cwd: dir });
      expect(ambiguous.exits).to.deep.equal([2]);
      expect(ambiguous.stderr).to.equal(
        'several HS256 secrets are configured ("k1", "k2"); choose one with --kid\n',
      );
      expect(ambiguous.stdout).to.equal('');

      const badTtl = await run(['token', '--user', 'x', '--kid', 'k1', '--ttl', 'forever'], { cwd: dir });
      expect(badTtl.exits).to.deep.equal([2]);
      expect(badTtl.stderr).to.equal('invalid --ttl: must be a duration like 10m, 1h or 1d, got "forever"\n');

      const noUser = await run(['token'], { cwd: dir });
      expect(noUser.exits).to.deep.equal([2]);
      expect(noUser.stderr).to.match(/required option '--user <id>' not specified/);
    });

    it('refuses to mint a token the node would refuse: reserved or invalid user ids (exit 2)', async () => {
      const system = await run(['token', '--user', 'system'], { cwd: dir });
      expect(system.exits).to.deep.equal([2]);
      expect(system.stderr).to.equal(
        'invalid token options: user id "system" is reserved for the server (auth.reservedUserIds)\n',
      );
      const rlo = await run(['token', '--user', 'a\u202eb'], { cwd: dir });
      expect(rlo.exits).to.deep.equal([2]);
      expect(rlo.stderr).to.equal('invalid token options: user id contains U+202E (a format character)\n');
      // The node's own limits and list: FERRY_AUTH_RESERVED_USERS frees "system", and bytes are counted.
      const env = { FERRY_AUTH_RESERVED_USERS: 'ops' };
      expect((await run(['token', '--user', 'system'], { cwd: dir, env })).exits).to.deep.equal([]);
      expect((await run(['token', '--user', 'ops'], { cwd: dir, env })).exits).to.deep.equal([2]);
      const cjk = await run(['token', '--user', '中'.repeat(43)], { cwd: dir });
      expect(cjk.stderr).to.equal('invalid token options: user id is longer than 128 bytes (UTF-8)\n');
    });
  });

  describe('invalid config', () => {
    it('prints one clear message per problem, no stack trace, and exits 2', async () => {
      const { stderr, exits, stdout } = await run(['start', '--ws-port', 'abc'], {
        cwd: dir,
        env: { FERRY_HEARTBEAT: 'soon' },
      });
      expect(exits).to.deep.equal([2]);
      expect(stdout).to.equal('');
      expect(stderr).to.equal(
        'invalid config: session.heartbeatMs (from env FERRY_HEARTBEAT) must be a duration like 500ms, 10s, 5m or 1h (a bare number is ms), got "soon"\n' +
          'invalid config: ws.port (from flag --ws-port) must be an integer 0-65535, got "abc"\n',
      );
    });

    it('exits 2 on a missing --config file and on an unknown command', async () => {
      const missing = await run(['config', 'print', '--config', 'nope.json'], { cwd: dir });
      expect(missing.exits).to.deep.equal([2]);
      expect(missing.stderr).to.match(
        /^invalid config: config file ".*nope\.json" \(from --config\) does not exist/,
      );
      const unknown = await run(['launch'], { cwd: dir });
      expect(unknown.exits).to.deep.equal([2]);
      expect(unknown.stderr).to.match(/unknown command 'launch'/);
    });
  });

  describe('config print', () => {
    it('prints the effective config with secrets redacted and the source of each value', async () => {
      writeFileSync(
        join(dir, 'ferry.config.json'),
        JSON.stringify({ ws: { port: 1111 }, tcp: { port: 2222 } }),
      );
      const env = { FERRY_TCP_PORT: '3333', FERRY_AUTH_SECRET: SECRET };
      const { stdout, exits } = await run(
        ['config', 'print', '--sources', '--no-grpc', '--ws-port', '4444'],
        {
          cwd: dir,
          env,
        },
      );
      expect(exits).to.deep.equal([]);
      expect(stdout).to.not.include(SECRET);
      const printed = JSON.parse(stdout) as {
        config: ReturnType<typeof loadConfig>;
        sources: Record<string, string>;
        file: string;
      };
      expect(printed.file).to.equal(join(dir, 'ferry.config.json'));
      expect([printed.config.ws.port, printed.config.tcp.port, printed.config.grpc.enabled]).to.deep.equal([
        4444,
        3333,
        false,
      ]);
      expect(printed.config.auth.hmacSecrets).to.deep.equal({ '': '[redacted]' });
      expect(printed.sources).to.include({
        'ws.port': 'flag --ws-port',
        'tcp.port': 'env FERRY_TCP_PORT',
        'grpc.enabled': 'flag --no-grpc',
        'wt.enabled': 'default',
      });
    });

    it('does not let the implicit default of --no-* flags override the file', async () => {
      writeFileSync(join(dir, 'ferry.config.json'), JSON.stringify({ ws: { enabled: false } }));
      const { stdout } = await run(['config', 'print'], { cwd: dir });
      expect(JSON.parse(stdout).ws.enabled).to.equal(false);
    });
  });

  describe('certs', () => {
    it('creates a development certificate, prints it with its hash, and rotates it on --rotate', async () => {
      const dataDir = join(dir, 'data');
      const first = await run(['certs', '--data-dir', dataDir], { cwd: dir });
      expect(first.exits).to.deep.equal([]);
      expect(first.stdout).to.include(join(dataDir, 'certs', 'current-cert.pem'));
      const hash = /sha-256 {6}(\S+) /.exec(first.stdout)?.[1];
      expect(hash).to.be.a('string');
      expect(first.stdout).to.include(`"algorithm":"sha-256","value":"${hash}"`);

      const again = await run(['certs', '--data-dir', dataDir], { cwd: dir });
      expect(again.stdout).to.include(hash);
      const rotated = await run(['certs', '--rotate', '--data-dir', dataDir], { cwd: dir });
      expect(rotated.stdout).to.include('just rotated');
      expect(rotated.stdout).not.to.include(hash);
    });

    it('describes a configured CA certificate and refuses --rotate for it', async () => {
      const made = await run(['certs', '--data-dir', join(dir, 'gen')], { cwd: dir });
      const cert = /certificate {2}(\S+)/.exec(made.stdout)?.[1] ?? '';
      const key = /key {10}(\S+)/.exec(made.stdout)?.[1] ?? '';
      const env = { FERRY_WT_CERT: cert, FERRY_WT_KEY: key };
      const shown = await run(['certs'], { cwd: dir, env });
      expect(shown.stdout).to.include('CA-issued').and.include(cert);
      const refused = await run(['certs', '--rotate'], { cwd: dir, env });
      expect(refused.exits).to.deep.equal([2]);
    });
  });

  describe('start', () => {
    it('prints the banner, then drains once on SIGTERM and exits 0', async function () {
      this.timeout(20_000 * TIME_FACTOR);
      const dataDir = join(dir, 'data');
      const args = [
        'start',
        ...quietPorts,
        '--log-level',
        'silent',
        '--data-dir',
        dataDir,
        '--node-id',
        'cli-node',
      ];
      const out = await run(args, { cwd: dir });
      expect(out.exits).to.deep.equal([]);
      expect(out.stderr).to.include('Ferry node cli-node is running');
      // The client listeners bind every interface (host 0.0.0.0): the banner says so, and names a
      // URL that works from this machine; the admin port binds loopback only.
      expect(out.stderr).to.match(
        /\n {2}WebSocket +ws:\/\/0\.0\.0\.0:\d+\/ws \(all interfaces; from this machine ws:\/\/127\.0\.0\.1:\d+\/ws\)\n/,
      );
      expect(out.stderr).to.match(
        /\n {2}TCP +tcp:\/\/0\.0\.0\.0:\d+ \(all interfaces; from this machine tcp:\/\/127\.0\.0\.1:\d+\)\n/,
      );
      expect(out.stderr).to.match(/\n {2}Admin HTTP +http:\/\/127\.0\.0\.1:\d+\n/);
      expect(out.stderr).to.include(`development HS256 secret ${join(dataDir, 'dev-secret')}`);
      expect(out.stderr).to.include(`npx ferry token --user alice --data-dir ${dataDir}`);
      const adminKey = readFileSync(join(dataDir, 'admin', 'dev-secret'), 'utf8').trim();
      expect(out.stderr).to.include(`/demo#key=${adminKey} `);
      expect(out.stderr).to.include(`Admin key:  contents of ${join(dataDir, 'admin', 'dev-secret')}`);
      // SIGHUP reloads the service route table (docs/upstreams.md); the others drain.
      expect([...out.signals.keys()].sort()).to.deep.equal(['SIGHUP', 'SIGINT', 'SIGTERM']);
      out.signals.get('SIGHUP')?.('SIGHUP'); // reloads routes, does not drain
      expect(out.exits).to.deep.equal([]);

      out.signals.get('SIGTERM')?.('SIGTERM');
      await waitFor(() => out.exits.length > 0, 15_000 * TIME_FACTOR);
      expect(out.exits).to.deep.equal([0]);
      expect(out.stderr).to.include('SIGTERM, draining');
    });

    it('forces exit 1 on a second signal', async function () {
      this.timeout(20_000 * TIME_FACTOR);
      const out = await run(['start', ...quietPorts, '--log-level', 'silent', '--data-dir', join(dir, 'd')], {
        cwd: dir,
      });
      out.signals.get('SIGINT')?.('SIGINT');
      out.signals.get('SIGINT')?.('SIGINT');
      await waitFor(() => out.exits.length > 0, 15_000 * TIME_FACTOR);
      expect(out.exits[0]).to.equal(1);
      expect(out.stderr).to.include('second SIGINT, exiting without finishing the drain');
    });

    it('runs as a real process until SIGTERM, then exits 0', async function () {
      this.timeout(30_000 * TIME_FACTOR);
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/cli.ts',
          'start',
          ...quietPorts,
          '--log-level',
          'silent',
          '--data-dir',
          join(dir, 'p'),
        ],
        { cwd: process.cwd(), env: { ...process.env, FERRY_TRACE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(() => stderr.includes('is running'), 20_000 * TIME_FACTOR);
        child.kill('SIGTERM');
        expect(await exited).to.equal(0);
        expect(stderr).to.include('SIGTERM, draining');
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
