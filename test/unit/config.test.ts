import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  loadConfig,
  loadConfigWithSources,
  redactConfig,
  type LoadConfigOptions,
} from '../../src/config/load.js';
import { Type as TypeBox } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { defaultConfig, FERRY_CONFIG_SCHEMA, LEAVES, SETTINGS } from '../../src/config/schema.js';
import { Type } from '../../src/config/setting.js';
import { parseLeaf } from '../../src/config/values.js';
import { ConfigError } from '../../src/errors.js';

const SECRET = 'config-test-secret-of-32-bytes-or-more';

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Loads in the temp dir with an empty environment unless the test says otherwise. */
  const load = (opts: LoadConfigOptions = {}) => loadConfig({ cwd: dir, env: {}, ...opts });
  const writeJson = (name: string, value: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  /** The ConfigError's lines (each starts with "invalid config: "). */
  const problems = (opts: LoadConfigOptions): string[] => {
    try {
      load(opts);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const lines = (err as Error).message.split('\n');
      for (const line of lines) expect(line).to.match(/^invalid config: /);
      return lines.map((l) => l.slice('invalid config: '.length));
    }
    return expect.fail('expected a ConfigError');
  };

  describe('schema', () => {
    it("builds the nodes TypeBox's own builders build, kind markers included", () => {
      /** Every own key, symbols too, recursively: what TypeBox's Value and compiler read. */
      const own = (v: unknown): unknown => {
        if (typeof v !== 'object' || v === null) return v;
        if (Array.isArray(v)) return v.map(own);
        return Object.fromEntries(
          Reflect.ownKeys(v).map((k) => [String(k), own((v as Record<string | symbol, unknown>)[k])]),
        );
      };
      const same = (ours: unknown, theirs: unknown): void => {
        expect(own(ours)).to.deep.equal(own(theirs));
      };
      same(Type.String({ pattern: '^a$', minLength: 1 }), TypeBox.String({ pattern: '^a$', minLength: 1 }));
      same(Type.String(), TypeBox.String());
      same(Type.Literal('x'), TypeBox.Literal('x'));
      same(
        Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
        TypeBox.Union([TypeBox.Literal('a'), TypeBox.Literal('b')], { default: 'a' }),
      );
      same(
        Type.Unsafe<'a' | 'b'>(Type.Union([Type.Literal('a'), Type.Literal('b')])),
        TypeBox.Unsafe<'a' | 'b'>(TypeBox.Union([TypeBox.Literal('a'), TypeBox.Literal('b')])),
      );
      same(Type.Boolean(), TypeBox.Boolean());
      same(Type.Integer({ minimum: 0, maximum: 9 }), TypeBox.Integer({ minimum: 0, maximum: 9 }));
      same(Type.Array(Type.String()), TypeBox.Array(TypeBox.String()));
      same(Type.Record(Type.String(), Type.String()), TypeBox.Record(TypeBox.String(), TypeBox.String()));
      same(
        Type.Record(Type.String(), Type.Object({ a: Type.Boolean() })),
        TypeBox.Record(TypeBox.String(), TypeBox.Object({ a: TypeBox.Boolean() })),
      );
      same(
        Type.Object({ a: Type.String(), b: Type.Integer() }),
        TypeBox.Object({ a: TypeBox.String(), b: TypeBox.Integer() }),
      );
      same(Type.Object({}), TypeBox.Object({}));
      same(Type.Null(), TypeBox.Null());
    });

    it('gives defaults that satisfy the schema as JSON Schema and parse under their own rules', () => {
      const defaults = defaultConfig();
      expect(
        [...Value.Errors(FERRY_CONFIG_SCHEMA, defaults)].map((e) => `${e.path}: ${e.message}`),
      ).to.deep.equal([]);
      for (const [path, spec] of Object.entries(LEAVES)) {
        let value: unknown = defaults;
        for (const part of path.split('.')) value = (value as Record<string, unknown> | null)?.[part];
        if (value === undefined) continue; // a leaf of a group that is null ("off") by default
        const entries = spec.kind.type === 'map' ? Object.values(value as object) : [value];
        for (const raw of entries) {
          const parsed = parseLeaf(spec, raw, { baseDir: '/', fromString: false });
          expect(parsed, path).to.include({ ok: true });
        }
      }
    });

    it('maps every env variable and flag to a leaf, each name used once', () => {
      for (const s of SETTINGS) expect(LEAVES, s.path).to.have.property(s.path);
      const envs = SETTINGS.map((s) => s.env);
      const flags = SETTINGS.map((s) => s.flag);
      expect(new Set(envs).size).to.equal(envs.length);
      expect(new Set(flags).size).to.equal(flags.length);
      for (const env of envs) expect(env).to.match(/^FERRY_[A-Z_]+$/);
    });
  });

  describe('defaults', () => {
    it('zero config gives the embedded defaults, with a generated node id and an absolute dataDir', () => {
      const config = load();
      const expected = { ...defaultConfig(), nodeId: config.nodeId, dataDir: join(dir, '.ferry') };
      expect(config).to.deep.equal(expected);
      const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-');
      expect(config.nodeId).to.match(/-[0-9a-f]{6}$/);
      expect(config.nodeId.startsWith(host.slice(0, 40)) || config.nodeId.startsWith('ferry-')).to.equal(
        true,
      );
      expect(load().nodeId).to.not.equal(config.nodeId);
    });

    it('keeps an explicit node id', () => {
      expect(load({ env: { FERRY_NODE_ID: 'edge-1' } }).nodeId).to.equal('edge-1');
    });
  });

  describe('precedence: defaults < file < env < flags', () => {
    it('lets each layer override the one before, setting by setting', () => {
      writeJson('ferry.config.json', { ws: { port: 1001 }, tcp: { port: 1002 }, grpc: { port: 1003 } });
      const env = { FERRY_WS_PORT: '2001', FERRY_TCP_PORT: '2002' };
      const { config, sources, file } = loadConfigWithSources({ cwd: dir, env, flags: { wsPort: '3001' } });
      expect(file).to.equal(join(dir, 'ferry.config.json'));
      expect([config.ws.port, config.tcp.port, config.grpc.port, config.admin.port]).to.deep.equal([
        3001, 2002, 1003, 9090,
      ]);
      expect(sources['ws.port']).to.equal('flag --ws-port');
      expect(sources['tcp.port']).to.equal('env FERRY_TCP_PORT');
      expect(sources['grpc.port']).to.equal(`file ${join(dir, 'ferry.config.json')}`);
      expect(sources['admin.port']).to.equal('default');
    });

    it('reads an explicit config path (from the option, flags.config or FERRY_CONFIG) instead of ./ferry.config.json', () => {
      writeJson('ferry.config.json', { host: '10.0.0.1' });
      const other = writeJson('other.json', { host: '10.0.0.2' });
      expect(load().host).to.equal('10.0.0.1');
      expect(load({ configPath: 'other.json' }).host).to.equal('10.0.0.2');
      expect(load({ flags: { config: other } }).host).to.equal('10.0.0.2');
      expect(load({ env: { FERRY_CONFIG: other } }).host).to.equal('10.0.0.2');
    });

    it('toggles listeners from the file, env and --no-* flags', () => {
      writeJson('ferry.config.json', { wt: { enabled: false } });
      const config = load({
        env: { FERRY_TCP_ENABLED: 'false' },
        flags: { ws: false, grpc: undefined },
      });
      expect([config.ws.enabled, config.tcp.enabled, config.wt.enabled, config.grpc.enabled]).to.deep.equal([
        false,
        false,
        false,
        true,
      ]);
    });

    it('accepts kebab-case flag keys and typed values, and ignores empty env values', () => {
      const config = load({ env: { FERRY_HOST: '' }, flags: { 'admin-port': 0, 'max-frame-bytes': 4096 } });
      expect(config.host).to.equal('0.0.0.0');
      expect(config.admin.port).to.equal(0);
      expect(config.limits.maxFrameBytes).to.equal(4096);
    });

    it('sets the flood tolerance and the control-frame cost from the file, env and flags, in range', () => {
      writeJson('ferry.config.json', { limits: { floodToleranceSeconds: 5, controlFramePercent: 50 } });
      expect(load().limits).to.deep.include({ floodToleranceSeconds: 5, controlFramePercent: 50 });
      const config = load({ env: { FERRY_FLOOD_TOLERANCE: '1' }, flags: { 'rate-control-percent': 10 } });
      expect(config.limits).to.deep.include({ floodToleranceSeconds: 1, controlFramePercent: 10 });
      expect(problems({ env: { FERRY_RATE_CONTROL_PERCENT: '0' } })).to.deep.equal([
        'limits.controlFramePercent (from env FERRY_RATE_CONTROL_PERCENT) must be an integer 1-100, got "0"',
      ]);
      expect(problems({ flags: { 'flood-tolerance': '0.5' } })).to.deep.equal([
        'limits.floodToleranceSeconds (from flag --flood-tolerance) must be an integer 1-3600, got "0.5"',
      ]);
    });

    it('adds FERRY_AUTH_SECRET as the kid-less secret beside the file secrets', () => {
      writeJson('ferry.config.json', { auth: { hmacSecrets: { k1: SECRET } } });
      const config = load({ env: { FERRY_AUTH_SECRET: `${SECRET}-env` } });
      expect(config.auth.hmacSecrets).to.deep.equal({ k1: SECRET, '': `${SECRET}-env` });
    });

    it('resolves relative paths in the file against its directory, others against cwd', () => {
      mkdirSync(join(dir, 'conf', 'certs'), { recursive: true });
      writeFileSync(join(dir, 'conf', 'certs', 'c.pem'), 'x');
      writeFileSync(join(dir, 'conf', 'certs', 'k.pem'), 'x');
      writeJson('conf/ferry.json', {
        dataDir: 'state',
        ws: { tls: { cert: 'certs/c.pem', key: 'certs/k.pem' } },
      });
      const config = load({ configPath: 'conf/ferry.json', env: { FERRY_DATA_DIR: 'envstate' } });
      expect(config.ws.tls).to.deep.equal({
        cert: join(dir, 'conf/certs/c.pem'),
        key: join(dir, 'conf/certs/k.pem'),
      });
      expect(config.dataDir).to.equal(join(dir, 'envstate'));
      expect(load({ configPath: 'conf/ferry.json' }).dataDir).to.equal(join(dir, 'conf', 'state'));
    });

    it('lets the file switch TLS off with null and ignores $schema', () => {
      writeJson('ferry.config.json', { $schema: './schema.json', tcp: { tls: null } });
      expect(load().tcp.tls).to.equal(null);
    });
  });

  describe('durations, sizes and lists', () => {
    const heartbeat = (v: string | number) =>
      load({ flags: { heartbeat: v, idleTimeout: '1d' } }).session.heartbeatMs;

    it('parses durations as ms numbers or with ms/s/m/h units', () => {
      expect([heartbeat(1500), heartbeat('1500'), heartbeat('500ms'), heartbeat('10s')]).to.deep.equal([
        1500, 1500, 500, 10_000,
      ]);
      expect([heartbeat('5m'), heartbeat('1h'), heartbeat('1.5s')]).to.deep.equal([300_000, 3600_000, 1500]);
    });

    it('parses sizes as byte numbers or with KiB/MiB units', () => {
      const frame = (v: string | number) => load({ flags: { maxFrameBytes: v } }).limits.maxFrameBytes;
      expect([frame(2048), frame('64KiB'), frame('1MiB'), frame('1.5kib'), frame('4KB')]).to.deep.equal([
        2048, 65536, 1048576, 1536, 4000,
      ]);
      writeJson('ferry.config.json', {
        limits: { outboundQueueBytes: '2MiB' },
        session: { heartbeatMs: '5s' },
      });
      const config = load();
      expect(config.limits.outboundQueueBytes).to.equal(2 * 1024 * 1024);
      expect(config.session.heartbeatMs).to.equal(5000);
    });

    it('splits and normalises the origin list', () => {
      const config = load({ env: { FERRY_WS_ORIGINS: 'https://App.example.com, http://localhost:3000/' } });
      expect(config.ws.allowedOrigins).to.deep.equal(['https://app.example.com', 'http://localhost:3000']);
    });

    it('reads the reserved user ids (default ["system"]) and allowNoExpiry (default false)', () => {
      const defaults = load({});
      expect(defaults.auth.reservedUserIds).to.deep.equal(['system']);
      expect(defaults.auth.allowNoExpiry).to.equal(false);
      const fromEnv = load({
        env: { FERRY_AUTH_RESERVED_USERS: 'system, bot ,,bot', FERRY_AUTH_ALLOW_NO_EXPIRY: 'true' },
      });
      expect(fromEnv.auth.reservedUserIds).to.deep.equal(['system', 'bot']);
      expect(fromEnv.auth.allowNoExpiry).to.equal(true);
      writeJson('ferry.config.json', { auth: { reservedUserIds: [], allowNoExpiry: false } });
      expect(load({}).auth.reservedUserIds).to.deep.equal([]);
      expect(load({ flags: { authReservedUsers: 'ops' } }).auth.reservedUserIds).to.deep.equal(['ops']);
    });
  });

  describe('validation messages', () => {
    it('names the setting, its source and the bad value', () => {
      expect(problems({ env: { FERRY_WS_PORT: 'abc' } })).to.deep.equal([
        'ws.port (from env FERRY_WS_PORT) must be an integer 0-65535, got "abc"',
      ]);
      expect(problems({ flags: { tcpPort: '70000' } })).to.deep.equal([
        'tcp.port (from flag --tcp-port) must be an integer 0-65535, got "70000"',
      ]);
      const file = writeJson('ferry.config.json', { admin: { port: '9090' } });
      expect(problems({})).to.deep.equal([
        `admin.port (from file ${file}) must be an integer 0-65535, got "9090"`,
      ]);
    });

    it('covers each kind of value', () => {
      const cases: [Record<string, string>, string][] = [
        [
          { FERRY_LOG_LEVEL: 'loud' },
          'log.level (from env FERRY_LOG_LEVEL) must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
        ],
        [
          { FERRY_WS_ENABLED: 'maybe' },
          'ws.enabled (from env FERRY_WS_ENABLED) must be true or false, got "maybe"',
        ],
        [
          { FERRY_HEARTBEAT: '10 parsecs' },
          'session.heartbeatMs (from env FERRY_HEARTBEAT) must be a duration like 500ms, 10s, 5m or 1h (a bare number is ms), got "10 parsecs"',
        ],
        [
          { FERRY_AUTH_DEADLINE: '10ms' },
          'auth.deadlineMs (from env FERRY_AUTH_DEADLINE) must be at least 100ms, got "10ms"',
        ],
        [
          { FERRY_DRAIN_TIMEOUT: '2h' },
          'drain.timeoutMs (from env FERRY_DRAIN_TIMEOUT) must be at most 1h, got "2h"',
        ],
        [
          { FERRY_MAX_FRAME_BYTES: 'lots' },
          'limits.maxFrameBytes (from env FERRY_MAX_FRAME_BYTES) must be a size like 65536, 64KiB or 1MiB, got "lots"',
        ],
        [
          { FERRY_MAX_FRAME_BYTES: '1GiB' },
          'limits.maxFrameBytes (from env FERRY_MAX_FRAME_BYTES) must be at most 64MiB, got "1GiB"',
        ],
        [
          { FERRY_RATE_FRAMES: '0' },
          'limits.framesPerSecond (from env FERRY_RATE_FRAMES) must be an integer 1-1000000, got "0"',
        ],
        [
          { FERRY_CONNECTIONS_PER_IP: '1.5' },
          'limits.connectionsPerIp (from env FERRY_CONNECTIONS_PER_IP) must be an integer 1-10000000, got "1.5"',
        ],
        [
          { FERRY_WS_ORIGINS: 'https://a.example/path' },
          'ws.allowedOrigins (from env FERRY_WS_ORIGINS) must be a list of origins like https://app.example.com, got "https://a.example/path"',
        ],
        [
          { FERRY_NODE_ID: 'has space' },
          'nodeId (from env FERRY_NODE_ID) must be up to 64 of A-Z a-z 0-9 . _ -, got "has space"',
        ],
        [{ FERRY_HOST: 'a b' }, 'host (from env FERRY_HOST) must be a host name or IP address, got "a b"'],
        [
          { FERRY_AUTH_RESERVED_USERS: 'system,bad\u0085id' },
          'auth.reservedUserIds (from env FERRY_AUTH_RESERVED_USERS) must be a list of user ids (docs/protocol.md §5.9: no control or format characters), got entry 1 contains U+0085 (a control character)',
        ],
        [
          { FERRY_HANDSHAKE_TIMEOUT: '50ms' },
          'limits.handshakeTimeoutMs (from env FERRY_HANDSHAKE_TIMEOUT) must be at least 100ms, got "50ms"',
        ],
        [
          { FERRY_RESERVED_FDS: '-1' },
          'limits.reservedFds (from env FERRY_RESERVED_FDS) must be an integer 0-1000000, got "-1"',
        ],
        [
          { FERRY_GRPC_CONNECTIONS_PER_IP: '0' },
          'access.connectionsPerIp (from env FERRY_GRPC_CONNECTIONS_PER_IP) must be an integer 1-10000000, got "0"',
        ],
      ];
      for (const [env, message] of cases) expect(problems({ env })).to.deep.equal([message]);
    });

    it('never echoes a secret', () => {
      expect(problems({ env: { FERRY_AUTH_SECRET: 'hunter2' } })).to.deep.equal([
        'auth.hmacSecrets[""] (from env FERRY_AUTH_SECRET) must be an HS256 secret of at least 32 bytes, got 7 bytes',
      ]);
      writeJson('ferry.config.json', { auth: { hmacSecrets: { k1: 12345 } } });
      const lines = problems({});
      expect(lines[0]).to.match(
        /^auth\.hmacSecrets\.k1 \(from file .*\) must be an HS256 secret .*, got a number$/,
      );
      expect(lines.join()).to.not.include('12345');
    });

    it('rejects unknown keys in the file, suggesting the near miss', () => {
      const file = writeJson('ferry.config.json', {
        ws: { prot: 1 },
        limits: { maxframebytes: 1 },
        colour: true,
      });
      expect(problems({})).to.deep.equal([
        `unknown setting "ws.prot" (from file ${file}); did you mean "ws.port"?`,
        `unknown setting "limits.maxframebytes" (from file ${file}); did you mean "limits.maxFrameBytes"?`,
        `unknown setting "colour" (from file ${file})`,
      ]);
    });

    it('rejects objects of the wrong shape, unknown flags, bad JSON and a missing explicit file', () => {
      const file = writeJson('ferry.config.json', { ws: 5, tcp: { tls: 'yes' }, auth: { publicKeys: [] } });
      expect(problems({ flags: { wsProt: '1' } })).to.deep.equal([
        `ws (from file ${file}) must be an object, got 5`,
        `tcp.tls (from file ${file}) must be an object or null, got "yes"`,
        `auth.publicKeys (from file ${file}) must be an object by key id, got []`,
        'unknown flag "wsProt"',
      ]);
      writeJson('bad.json', '{ "ws": ');
      expect(problems({ configPath: 'bad.json' })[0]).to.match(
        /^config file .*bad\.json is not valid JSON \(/,
      );
      writeJson('array.json', '[1]');
      expect(problems({ configPath: 'array.json' })[0]).to.match(/must contain a JSON object, got \[1\]$/);
      expect(problems({ configPath: 'nope.json' })).to.deep.equal([
        `config file "${join(dir, 'nope.json')}" (from --config) does not exist or is not a file`,
      ]);
      expect(problems({ env: { FERRY_CONFIG: 'nope.json' } })[0]).to.match(
        /\(from env FERRY_CONFIG\) does not exist/,
      );
    });

    it('checks settings against each other and the file system', () => {
      writeFileSync(join(dir, 'cert.pem'), 'x');
      const lines = problems({
        env: { FERRY_WS_TLS_CERT: 'cert.pem', FERRY_TCP_TLS_CERT: 'cert.pem', FERRY_TCP_TLS_KEY: 'gone.pem' },
        flags: { grpcPort: '8080', heartbeat: '2m' },
      });
      expect(lines).to.deep.equal([
        'ws.tls.key must be set together with ws.tls.cert (from env FERRY_WS_TLS_CERT)',
        `tcp.tls.key (from env FERRY_TCP_TLS_KEY) must be a readable file, got "${join(dir, 'gone.pem')}"`,
        'session.idleTimeoutMs (from default) must be greater than session.heartbeatMs (from flag --heartbeat), got 1m <= 2m',
        'ws.port (from default) and grpc.port (from flag --grpc-port) are both 8080',
      ]);
    });

    it('reads topic rules from the file beside the default $all rule, and refuses bad ones', () => {
      const file = writeJson('rules.json', {
        topics: { rules: { 'chat:*': { subscribe: 'grant', publish: 'subscriber' } }, unmatched: 'closed' },
      });
      const c = load({ configPath: file, env: { FERRY_PRESENCE_VISIBILITY: 'granted' } });
      expect(c.topics.rules).to.deep.equal({
        $all: { subscribe: 'any', publish: 'none', history: 'any' },
        'chat:*': { subscribe: 'grant', publish: 'subscriber', history: 'none' },
      });
      expect(c.topics.unmatched).to.equal('closed');
      expect(c.presence.visibility).to.equal('granted');
      const bad = writeJson('bad.json', {
        topics: { rules: { $feed: { publish: 'any' }, 'x y': {}, news: { subscribe: 'everyone' } } },
      });
      const lines = problems({ configPath: bad, flags: { topicsUnmatched: 'sometimes' } });
      expect(lines.join('\n')).to.match(/topics\.rules\.news \(from file .*\) must be an object like/);
      expect(lines.join('\n')).to.match(
        /topics\.unmatched \(from flag --topics-unmatched\) must be one of auto, open, grant, closed/,
      );
      expect(lines.join('\n')).to.match(
        /topics\.rules\["\$feed"\]: topics starting with "\$" are the server's/,
      );
      expect(lines.join('\n')).to.match(/topics\.rules\["x y"\]: a pattern is a topic name/);
    });

    it('allows shared port numbers for disabled listeners and port 0', () => {
      expect(load({ flags: { grpcPort: '8080', ws: false } }).grpc.port).to.equal(8080);
      expect(load({ flags: { wsPort: '0', tcpPort: '0', grpcPort: '0', adminPort: '0' } }).ws.port).to.equal(
        0,
      );
    });

    it('checks key files and refuses one kid for both a secret and a public key', () => {
      writeJson('ferry.config.json', {
        auth: { hmacSecrets: { k: SECRET }, publicKeys: { k: 'keys/k.pem' } },
      });
      const lines = problems({});
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(
        /^auth\.publicKeys\.k \(from file .*\) must be a readable file, got ".*keys\/k\.pem"$/,
      );
      expect(lines[1]).to.match(
        /^auth\.hmacSecrets\.k \(from file .*\) and auth\.publicKeys\.k \(from file .*\) use the same key id$/,
      );
    });
  });

  describe('upstream.amqp', () => {
    it('takes the broker URL from file, env and flag, and an amqp service needs it', () => {
      const file = writeJson('ferry.config.json', {
        routes: { '10': 'billing' },
        upstream: { services: { billing: 'amqp' } },
      });
      expect(problems({ flags: { config: file } })).to.deep.equal([
        'upstream.services.billing is amqp, which needs upstream.amqp.url',
      ]);
      const url = 'amqp://guest:guest@127.0.0.1:5672';
      expect(load({ flags: { config: file }, env: { FERRY_AMQP_URL: url } }).upstream.amqp.url).to.equal(url);
      const fromFlag = load({ flags: { config: file, amqpUrl: `${url}/vhost`, amqpQueueMaxLength: '100' } });
      expect(fromFlag.upstream.amqp).to.include({
        url: `${url}/vhost`,
        queueMaxLength: 100,
        prefix: 'ferry',
      });
      expect(redactConfig(fromFlag).upstream.amqp.url).to.equal(
        'amqp://guest:[redacted]@127.0.0.1:5672/vhost',
      );
      expect(problems({ env: { FERRY_AMQP_URL: 'http://broker' } }).join('\n')).to.match(
        /upstream\.amqp\.url .*amqp:\/\/guest:guest@127\.0\.0\.1:5672/,
      );
    });
  });

  describe('redactConfig', () => {
    it('hides secrets and leaves everything else alone', () => {
      const config = load({ env: { FERRY_AUTH_SECRET: SECRET } });
      const redacted = redactConfig(config);
      expect(redacted.auth.hmacSecrets).to.deep.equal({ '': '[redacted]' });
      expect(config.auth.hmacSecrets['']).to.equal(SECRET);
      expect(JSON.stringify(redacted)).to.not.include(SECRET);
      expect({ ...redacted, auth: config.auth }).to.deep.equal(config);
    });
  });
});
