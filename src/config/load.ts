import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isLoopbackHost } from '../admin/admin-hosts.js';
import { isKeyPath } from '../auth/jwt/key-ring.js';
import { topicRuleProblems } from '../auth/topic-policy.js';
import { ConfigError } from '../errors.js';
import { routeProblems } from '../upstream/route-table.js';
import { defaultConfig, LEAVES, NULLABLE_GROUPS, SETTINGS, type FerryConfig } from './schema.js';
import type { SettingSpec } from './setting.js';
import { describeSource, formatDuration, parseLeaf, type ConfigSource, type ParseContext } from './values.js';

/** Looked for in the working directory when no config path is given. */
export const CONFIG_FILE_NAME = 'ferry.config.json';

/** Inputs of one configuration load; everything is optional (zero config is a valid config). */
export interface LoadConfigOptions {
  /** CLI flags: commander's camelCase keys (`wsPort`, `ws: false` for --no-ws) or kebab-case ones. */
  flags?: Record<string, unknown>;
  /** Environment (default process.env). Empty values count as unset. */
  env?: NodeJS.ProcessEnv;
  /** Explicit config file; it must exist. Otherwise flags.config, then FERRY_CONFIG, then ./ferry.config.json. */
  configPath?: string;
  /** Directory relative paths in env and flags resolve against (default process.cwd()). */
  cwd?: string;
}

/** A loaded config with, per setting, where its value came from (`env FERRY_WS_PORT`, `default`, ...). */
export interface LoadedConfig {
  config: FerryConfig;
  sources: Record<string, string>;
  /** The config file that was read, or null. */
  file: string | null;
}

/**
 * Loads the effective configuration: defaults < config file < env (`FERRY_*`) < flags, each later layer
 * overriding single settings of the earlier ones. Every value is parsed and validated (durations accept
 * `500ms`/`10s`/`5m`/`1h`, sizes `64KiB`/`1MiB`); unknown keys in the file are errors, as are cross-setting
 * conflicts (TLS cert without key, two listeners on one port, ...). All problems are reported together in
 * one ConfigError, one `invalid config: <setting> (from <source>) must be ..., got ...` line each; secret
 * values are never echoed. Relative paths in the file resolve against the file's directory, others
 * against `cwd`; the result holds absolute paths. An empty nodeId becomes `<hostname>-<6 hex>`.
 */
export function loadConfig(opts: LoadConfigOptions = {}): FerryConfig {
  return loadConfigWithSources(opts).config;
}

interface Assignment {
  path: string;
  mapKey?: string;
  raw: unknown;
  source: ConfigSource;
  ctx: ParseContext;
}

/** Like loadConfig, and also says where each value came from (for `ferry config print --sources`). */
export function loadConfigWithSources(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const problems: string[] = [];
  const values = new Map<string, unknown>();
  const sources = new Map<string, ConfigSource>();

  const apply = (a: Assignment): void => {
    const spec = LEAVES[a.path];
    if (!spec) throw new Error(`no schema for ${a.path}`); // a bug in the schema, not bad input
    const label = entryLabel(a.path, a.mapKey);
    const r = parseLeaf(spec, a.raw, a.ctx);
    if (!r.ok) {
      const got = r.got ?? (spec.secret ? 'a secret value' : formatValue(a.raw));
      problems.push(`${label} (from ${describeSource(a.source)}) must be ${r.expected}, got ${got}`);
      return;
    }
    if (a.mapKey === undefined) values.set(a.path, r.value);
    else (values.get(a.path) as Record<string, unknown>)[a.mapKey] = r.value;
    sources.set(label, a.source);
  };

  const defaults: ParseContext = { baseDir: cwd, fromString: false };
  for (const [path, value] of flatten(defaultConfig())) {
    if (LEAVES[path]?.kind.type === 'map') values.set(path, { ...(value as object) });
    else apply({ path, raw: value, source: { kind: 'default' }, ctx: defaults });
  }

  const file = locateConfigFile(opts, flags, env, cwd, problems);
  if (file) {
    const json = readConfigFile(file, problems);
    const ctx: ParseContext = { baseDir: dirname(file), fromString: false };
    if (json)
      for (const a of fileAssignments(json, '', { kind: 'file', path: file }, ctx, problems)) apply(a);
  }

  const fromStrings: ParseContext = { baseDir: cwd, fromString: true };
  for (const s of SETTINGS) {
    const v = s.env ? env[s.env] : undefined;
    if (s.env && v !== undefined && v !== '') {
      apply({
        path: s.path,
        mapKey: s.mapKey,
        raw: v,
        source: { kind: 'env', name: s.env },
        ctx: fromStrings,
      });
    }
  }

  for (const [key, v] of Object.entries(flags)) {
    if (v === undefined || key === 'config') continue;
    const s = flagSpec(key);
    if (!s?.flag) {
      problems.push(`unknown flag ${JSON.stringify(key)}`);
      continue;
    }
    const name = s.negate ? `no-${s.flag}` : s.flag;
    apply({ path: s.path, mapKey: s.mapKey, raw: v, source: { kind: 'flag', name }, ctx: fromStrings });
  }

  const src = (label: string): string => describeSource(sources.get(label) ?? { kind: 'default' });
  problems.push(...crossCheck(values, src));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `invalid config: ${p}`).join('\n'));

  const sourceStrings = Object.fromEntries([...sources].map(([k, s]) => [k, describeSource(s)]));
  if (values.get('nodeId') === '') {
    values.set('nodeId', generateNodeId());
    sourceStrings.nodeId = 'generated';
  }
  return { config: build(values), sources: sourceStrings, file };
}

/**
 * A copy of `config` that is safe to print or log: HS256 secrets, API keys and the AMQP URL's password
 * are replaced by `[redacted]`.
 */
export function redactConfig(config: FerryConfig): FerryConfig {
  const copy = structuredClone(config);
  for (const kid of Object.keys(copy.auth.hmacSecrets)) copy.auth.hmacSecrets[kid] = '[redacted]';
  for (const name of Object.keys(copy.access.apiKeys)) copy.access.apiKeys[name] = '[redacted]';
  if (copy.access.callerKey !== '') copy.access.callerKey = '[redacted]';
  if (copy.admin.apiKey !== '') copy.admin.apiKey = '[redacted]';
  // The broker URL stays readable (host, vhost) without its password.
  copy.upstream.amqp.url = copy.upstream.amqp.url.replace(/^(amqps?:\/\/[^:@/]*):[^@/]*@/, '$1:[redacted]@');
  return copy;
}

/** `<hostname>-<6 hex>`, with the hostname cut to characters and a length every store key accepts. */
export function generateNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 40) || 'ferry';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

function entryLabel(path: string, mapKey: string | undefined): string {
  if (mapKey === undefined) return path;
  return /^[A-Za-z0-9_-]+$/.test(mapKey) ? `${path}.${mapKey}` : `${path}[${JSON.stringify(mapKey)}]`;
}

function formatValue(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf paths of defaultConfig(); null TLS groups expand to empty cert/key. */
function flatten(obj: object, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (LEAVES[path]) out.push([path, v]);
    else if (v === null && NULLABLE_GROUPS.has(path)) out.push([`${path}.cert`, ''], [`${path}.key`, '']);
    else if (isPlainObject(v)) out.push(...flatten(v, path));
    else out.push([path, v]); // no schema entry: apply() reports the bug loudly
  }
  return out;
}

/** Every proper prefix of a leaf path: the objects a file may contain. */
const GROUPS: ReadonlySet<string> = new Set(
  Object.keys(LEAVES).flatMap((p) =>
    p
      .split('.')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
  ),
);

function fileAssignments(
  obj: Record<string, unknown>,
  prefix: string,
  source: ConfigSource,
  ctx: ParseContext,
  problems: string[],
): Assignment[] {
  const out: Assignment[] = [];
  const from = `(from ${describeSource(source)})`;
  for (const [key, value] of Object.entries(obj)) {
    if (prefix === '' && key === '$schema') continue; // editors' schema hint, not a setting
    const path = prefix ? `${prefix}.${key}` : key;
    const leaf = LEAVES[path];
    if (leaf?.kind.type === 'map') {
      if (!isPlainObject(value))
        problems.push(`${path} ${from} must be an object by key id, got ${formatValue(value)}`);
      else for (const [k, v] of Object.entries(value)) out.push({ path, mapKey: k, raw: v, source, ctx });
    } else if (leaf) {
      out.push({ path, raw: value, source, ctx });
    } else if (GROUPS.has(path)) {
      if (value === null && NULLABLE_GROUPS.has(path)) {
        out.push(
          { path: `${path}.cert`, raw: '', source, ctx },
          { path: `${path}.key`, raw: '', source, ctx },
        );
      } else if (isPlainObject(value)) {
        out.push(...fileAssignments(value, path, source, ctx, problems));
      } else {
        const orNull = NULLABLE_GROUPS.has(path) ? ' or null' : '';
        problems.push(`${path} ${from} must be an object${orNull}, got ${formatValue(value)}`);
      }
    } else {
      problems.push(`unknown setting ${JSON.stringify(path)} ${from}${suggest(path)}`);
    }
  }
  return out;
}

/** `; did you mean "ws.port"?` for a near miss (edit distance <= 2, or a case difference), else ''. */
function suggest(path: string): string {
  let best = '';
  let bestDistance = 3;
  for (const candidate of [...Object.keys(LEAVES), ...GROUPS]) {
    const d = candidate.toLowerCase() === path.toLowerCase() ? 0 : editDistance(candidate, path);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? `; did you mean ${JSON.stringify(best)}?` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

const FLAG_SPECS = new Map<string, SettingSpec>(
  SETTINGS.filter((s) => s.flag).flatMap((s) => [
    [camelCase(s.flag ?? ''), s],
    [s.flag ?? '', s],
  ]),
);

function flagSpec(key: string): SettingSpec | undefined {
  return FLAG_SPECS.get(key);
}

/** `ws-port` -> `wsPort`, as commander names option values. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function locateConfigFile(
  opts: LoadConfigOptions,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  cwd: string,
  problems: string[],
): string | null {
  const explicit: [string, string] | undefined =
    opts.configPath !== undefined
      ? [opts.configPath, '--config']
      : typeof flags.config === 'string'
        ? [flags.config, '--config']
        : env.FERRY_CONFIG
          ? [env.FERRY_CONFIG, 'env FERRY_CONFIG']
          : undefined;
  if (!explicit) {
    const implicit = resolve(cwd, CONFIG_FILE_NAME);
    return isFile(implicit) ? implicit : null;
  }
  const path = resolve(cwd, explicit[0]);
  if (!isFile(path)) {
    problems.push(
      `config file ${JSON.stringify(path)} (from ${explicit[1]}) does not exist or is not a file`,
    );
    return null;
  }
  return path;
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? `is not valid JSON (${err.message})` : `cannot be read (${String(err)})`;
    problems.push(`config file ${path} ${why}`);
    return null;
  }
  if (!isPlainObject(json)) {
    problems.push(`config file ${path} must contain a JSON object, got ${formatValue(json)}`);
    return null;
  }
  return json;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Checks that involve more than one setting, or the file system. Messages without the prefix. */
function crossCheck(values: Map<string, unknown>, src: (label: string) => string): string[] {
  const problems: string[] = [];
  const get = <T>(path: string): T => values.get(path) as T;
  const fileProblem = (label: string, file: string): void => {
    if (!isFile(file))
      problems.push(`${label} (from ${src(label)}) must be a readable file, got ${JSON.stringify(file)}`);
  };

  for (const listener of ['ws', 'tcp']) {
    const [cert, key] = [get<string>(`${listener}.tls.cert`), get<string>(`${listener}.tls.key`)];
    if ((cert === '') !== (key === '')) {
      const [set, missing] = cert ? ['cert', 'key'] : ['key', 'cert'];
      const setLabel = `${listener}.tls.${set}`;
      problems.push(
        `${listener}.tls.${missing} must be set together with ${setLabel} (from ${src(setLabel)})`,
      );
    } else if (cert && get<boolean>(`${listener}.enabled`)) {
      fileProblem(`${listener}.tls.cert`, cert);
      fileProblem(`${listener}.tls.key`, key);
    }
  }

  // WebTransport always has TLS: no cert and no key means development certificates, so only pairs are checked.
  const [wtCert, wtKey] = [get<string>('wt.cert'), get<string>('wt.key')];
  if ((wtCert === '') !== (wtKey === '')) {
    const [set, missing] = wtCert ? ['cert', 'key'] : ['key', 'cert'];
    problems.push(`wt.${missing} must be set together with wt.${set} (from ${src(`wt.${set}`)})`);
  } else if (wtCert && get<boolean>('wt.enabled')) {
    fileProblem('wt.cert', wtCert);
    fileProblem('wt.key', wtKey);
  }

  const secrets = get<Record<string, string>>('auth.hmacSecrets');
  for (const [kid, value] of Object.entries(get<Record<string, string>>('auth.publicKeys'))) {
    const label = entryLabel('auth.publicKeys', kid);
    if (isKeyPath(value)) fileProblem(label, value);
    if (kid in secrets) {
      const other = entryLabel('auth.hmacSecrets', kid);
      problems.push(`${other} (from ${src(other)}) and ${label} (from ${src(label)}) use the same key id`);
    }
  }

  const [heartbeat, idle] = [get<number>('session.heartbeatMs'), get<number>('session.idleTimeoutMs')];
  if (idle <= heartbeat) {
    problems.push(
      `session.idleTimeoutMs (from ${src('session.idleTimeoutMs')}) must be greater than session.heartbeatMs ` +
        `(from ${src('session.heartbeatMs')}), got ${formatDuration(idle)} <= ${formatDuration(heartbeat)}`,
    );
  }

  const redisModes = ['redis.url', 'redis.cluster', 'redis.sentinel'].filter((p) => get<string>(p) !== '');
  if (redisModes.length > 1) {
    const named = redisModes.map((p) => `${p} (from ${src(p)})`);
    problems.push(
      `${named.slice(0, -1).join(', ')} and ${named.at(-1)!} are ${named.length > 2 ? 'all' : 'both'} set; ` +
        'use one: redis.url for a single Redis, redis.cluster for Redis Cluster, redis.sentinel for Redis Sentinel',
    );
  }
  problems.push(...durabilityProblems(get, src, redisModes.length > 0));

  problems.push(...accessProblems(get, src));
  problems.push(...adminProblems(get, src));

  problems.push(...topicRuleProblems(get('topics.rules'), get<number>('limits.maxTopicLength')));

  // The route table as a whole (ranges, overlaps, unknown services; docs/upstreams.md).
  const upstreamServices = get<Record<string, string>>('upstream.services');
  problems.push(...routeProblems(get<Record<string, string>>('routes'), upstreamServices));
  const needsRedis = Object.entries(upstreamServices).find(([, kind]) => kind === 'redis');
  if (needsRedis && redisModes.length === 0)
    problems.push(
      `upstream.services.${needsRedis[0]} is redis, which needs redis.url, redis.cluster or redis.sentinel`,
    );

  const needsAmqp = Object.entries(upstreamServices).find(([, kind]) => kind === 'amqp');
  if (needsAmqp && get<string>('upstream.amqp.url') === '')
    problems.push(`upstream.services.${needsAmqp[0]} is amqp, which needs upstream.amqp.url`);

  // UDP (WebTransport) may share a number with a TCP listener; two TCP listeners may not.
  const byPort = new Map<number, string>();
  for (const listener of ['ws', 'tcp', 'grpc', 'admin']) {
    const port = get<number>(`${listener}.port`);
    if (!get<boolean>(`${listener}.enabled`) || port === 0) continue;
    const label = `${listener}.port`;
    const other = byPort.get(port);
    if (other)
      problems.push(`${other} (from ${src(other)}) and ${label} (from ${src(label)}) are both ${port}`);
    else byPort.set(port, label);
  }
  return problems;
}

/** Sentinel needs its master name (and only it), and ack-after-replica needs Redis replicas. */
function durabilityProblems(
  get: <T>(path: string) => T,
  src: (label: string) => string,
  redisConfigured: boolean,
): string[] {
  const problems: string[] = [];
  const [sentinel, masterName] = [get<string>('redis.sentinel'), get<string>('redis.masterName')];
  if (sentinel !== '' && masterName === '')
    problems.push(
      `redis.sentinel (from ${src('redis.sentinel')}) needs redis.masterName, the name the sentinels monitor the primary under`,
    );
  if (sentinel === '' && masterName !== '')
    problems.push(`redis.masterName (from ${src('redis.masterName')}) is set without redis.sentinel`);
  if (get<string>('store.durability') === 'ack-after-replica' && !redisConfigured)
    problems.push(
      `store.durability (from ${src('store.durability')}) is ack-after-replica, which needs Redis with replicas: ` +
        'set redis.url, redis.cluster or redis.sentinel',
    );
  return problems;
}

/** The access section's cross-setting rules: a message node needs its access service, TLS comes in pairs. */
function accessProblems(get: <T>(path: string) => T, src: (label: string) => string): string[] {
  const problems: string[] = [];
  const role = get<string>('access.role');
  if (role === 'message' && get<string>('access.accessUrl') === '') {
    problems.push(`access.accessUrl must be set when access.role (from ${src('access.role')}) is message`);
  }
  const [cert, key, ca] = [
    get<string>('access.tlsCert'),
    get<string>('access.tlsKey'),
    get<string>('access.clientCa'),
  ];
  if ((cert === '') !== (key === '')) {
    const [set, missing] = cert ? ['tlsCert', 'tlsKey'] : ['tlsKey', 'tlsCert'];
    problems.push(`access.${missing} must be set together with access.${set} (from ${src(`access.${set}`)})`);
  }
  if (ca !== '' && cert === '') {
    problems.push(
      `access.clientCa (from ${src('access.clientCa')}) needs access.tlsCert and access.tlsKey (mTLS is TLS)`,
    );
  }
  for (const label of ['access.tlsCert', 'access.tlsKey', 'access.clientCa']) {
    const file = get<string>(label);
    if (file !== '' && !isFile(file))
      problems.push(`${label} (from ${src(label)}) must be a readable file, got ${JSON.stringify(file)}`);
  }
  return problems;
}

/**
 * The admin port's cross-setting rule: POST /demo/token mints a token for any user, so it is served only
 * on a loopback bind; asking for it ("on") anywhere else is an error rather than a silent downgrade.
 */
function adminProblems(get: <T>(path: string) => T, src: (label: string) => string): string[] {
  const host = get<string>('admin.host');
  if (!get<boolean>('admin.enabled') || get<string>('admin.demo') !== 'on' || isLoopbackHost(host)) return [];
  return [
    `admin.demo (from ${src('admin.demo')}) is on, but admin.host (from ${src('admin.host')}) ${host} is not a ` +
      'loopback address: POST /demo/token mints a token for any user, so it is served only on 127.0.0.1, ' +
      '::1 or localhost; bind the admin port to one of them, or set admin.demo to auto or off',
  ];
}

function build(values: Map<string, unknown>): FerryConfig {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  for (const [path, value] of values) {
    const parts = path.split('.');
    let node = config;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(node[part])) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] ?? ''] = value;
  }
  const result = config as unknown as FerryConfig;
  for (const listener of [result.ws, result.tcp]) {
    if (listener.tls && listener.tls.cert === '' && listener.tls.key === '') listener.tls = null;
  }
  return result;
}
