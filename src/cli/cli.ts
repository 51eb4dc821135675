/**
 * The `ferry` command: `start`, `token`, `certs`, `config print`, and the operator commands of
 * src/cli-ops (`status`, `user`, `kick`, `push`, `broadcast`). Exit codes: 0 success or clean drain, 1 runtime
 * failure or unclean drain, 2 invalid configuration or usage (one message on stderr, no stack trace).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { loadAdminKey } from '../admin/admin-key.js';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import { hasConfiguredKeys } from '../auth/jwt/jwt-authenticator.js';
import { grantListProblem } from '../auth/grants.js';
import { openPermissions, usesDevelopmentDefaults } from '../auth/permissions.js';
import { mintToken } from '../auth/jwt/mint.js';
import { mintSubscriptionToken } from '../auth/jwt/subscription-token.js';
import {
  formatBanner,
  formatCertificates,
  formatConfig,
  optionHelp,
  SETTINGS_HELP_FOOTER,
  type BannerAuth,
} from './output.js';
import { camelCase, loadConfig, loadConfigWithSources, type LoadConfigOptions } from '../config/load.js';
import { defaultConfig, SETTINGS, type FerryConfig } from '../config/schema.js';
import { parseDurationMs } from '../config/values.js';
import { ConfigError } from '../errors.js';
import { Gateway } from '../gateway.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { OpsUsageError, registerOpsCommands } from '../cli-ops/ops-commands.js';

/** The process around the CLI, injectable so tests can run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  onSignal: (signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: (signal: string) => void) => void;
}

/** Exit code for invalid configuration and command-line usage. */
export const EXIT_USAGE = 2;

/**
 * Runs the CLI on `argv` (process.argv shape: node, script, then arguments). Resolves once the command
 * has done its work; for `start` that is once the node is up, and the installed signal handlers end the
 * process later. Failures exit through `io.exit` (see the file comment for codes) and never throw.
 */
export async function main(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<void> {
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    exit: (code) => process.exit(code),
    env: process.env,
    cwd: process.cwd(),
    onSignal: (signal, handler) => void process.on(signal, () => handler(signal)),
    ...ioOverrides,
  };
  try {
    await buildProgram(io).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed help or the usage message.
      if (err.exitCode !== 0) io.exit(EXIT_USAGE);
      return;
    }
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof OpsUsageError) {
      io.stderr(`${err.message}\n`);
      io.exit(EXIT_USAGE);
      return;
    }
    io.stderr(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    io.exit(1);
  }
}

/** A bad command-line value outside the config settings (`--ttl abc`). */
class UsageError extends Error {}

function buildProgram(io: CliIo): Command {
  const program = new Command('ferry')
    .description('Ferry real-time message gateway')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  const start = program
    .command('start')
    .description('start a gateway node (every listener is on by default)');
  addSettingOptions(start).action(async (_opts, cmd: Command) => startCommand(io, loadOptions(io, cmd)));

  program
    .command('token')
    .description('print a development token signed with the configured HS256 secret or the dev secret')
    .requiredOption('--user <id>', 'user id (the token subject)')
    .option('--device <id>', 'bind the token to this device id (did claim)')
    .option('--topics <patterns>', 'grant these topic patterns, comma list (topics claim; docs/security.md)')
    .option('--presence <users>', "let the user see these users' presence, comma list (presence claim)")
    .option(
      '--subscription <topic>',
      'print a subscription token for this one topic instead (Subscribe.token)',
    )
    .option('--ttl <duration>', 'lifetime, e.g. 10m, 1h, 1d', '1h')
    .option('--secret <secret>', 'sign with this HS256 secret instead of the configured one')
    .option('--kid <kid>', 'key id to sign with (when several secrets are configured)')
    .option(
      '--data-dir <dir>',
      `directory holding the dev secret (default: ${defaultConfig().dataDir}; env: FERRY_DATA_DIR)`,
    )
    .option('--config <path>', 'config file (default: ./ferry.config.json if present)')
    .action(async (opts: TokenOptions, cmd: Command) => {
      const flags = cmd.getOptionValueSource('dataDir') === 'cli' ? { dataDir: opts.dataDir } : {};
      await tokenCommand(io, opts, { ...baseLoadOptions(io, opts.config), flags });
    });

  program
    .command('certs')
    .description('print the WebTransport certificate and its hashes (creating a development one if absent)')
    .option('--rotate', 'replace the development certificate now (a running node switches within 10 minutes)')
    .option(
      '--data-dir <dir>',
      `directory holding the certificates (default: ${defaultConfig().dataDir}; env: FERRY_DATA_DIR)`,
    )
    .option('--config <path>', 'config file (default: ./ferry.config.json if present)')
    .action(async (opts: { rotate?: boolean; dataDir?: string; config?: string }, cmd: Command) => {
      const flags = cmd.getOptionValueSource('dataDir') === 'cli' ? { dataDir: opts.dataDir } : {};
      await certsCommand(io, opts.rotate === true, { ...baseLoadOptions(io, opts.config), flags });
    });

  const config = program.command('config').description('inspect configuration');
  addSettingOptions(
    config.command('print').description('print the effective config as JSON (secrets redacted)'),
  )
    .option('--sources', 'also show where each value came from (default, file, env or flag)')
    .action(async (opts: { sources?: boolean }, cmd: Command) => {
      const loaded = loadConfigWithSources(loadOptions(io, cmd));
      io.stdout(formatConfig(loaded.config, opts.sources ? loaded : undefined));
    });
  // Operator commands over the gRPC access API: status, user, kick, push, broadcast.
  registerOpsCommands(program, io);
  return program;
}

/** Adds one option per setting in SETTINGS, plus --config; help shows each default and env variable. */
function addSettingOptions(cmd: Command): Command {
  cmd.option('--config <path>', 'config file (default: ./ferry.config.json if present; env: FERRY_CONFIG)');
  for (const spec of SETTINGS) {
    if (!spec.flag) continue;
    const flags = spec.negate ? `--no-${spec.flag}` : `--${spec.flag} <${spec.arg ?? 'value'}>`;
    cmd.addOption(new Option(flags, optionHelp(spec)));
  }
  return cmd.addHelpText('after', SETTINGS_HELP_FOOTER);
}

function baseLoadOptions(io: CliIo, configPath: string | undefined): LoadConfigOptions {
  return { env: io.env, cwd: io.cwd, ...(configPath !== undefined ? { configPath } : {}) };
}

/** Only flags the user typed: commander gives `--no-ws` a default of true, which must not beat the file. */
function loadOptions(io: CliIo, cmd: Command): LoadConfigOptions {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const key = spec.flag ? camelCase(spec.flag) : '';
    if (key && cmd.getOptionValueSource(key) === 'cli') flags[key] = opts[key];
  }
  return { ...baseLoadOptions(io, opts.config as string | undefined), flags };
}

async function startCommand(io: CliIo, loadOpts: LoadConfigOptions): Promise<void> {
  const config = loadConfig(loadOpts);
  const logger = createLogger({ level: config.log.level, nodeId: config.nodeId });
  let auth: BannerAuth;
  if (!hasConfiguredKeys(config.auth)) {
    // Created here as well as by the gateway's authenticator so the banner can name the file.
    auth = { kind: 'dev-secret', path: (await loadOrCreateDevSecret(config.dataDir)).path };
  } else if (Object.keys(config.auth.hmacSecrets).length > 0) {
    auth = { kind: 'hmac', kids: Object.keys(config.auth.hmacSecrets) };
  } else {
    auth = { kind: 'public-keys-only', kids: Object.keys(config.auth.publicKeys) };
  }

  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { logger, reloadConfig: () => loadConfig(loadOpts) });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    logger.fatal({ err }, 'start failed');
    throw new Error(`cannot start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // `start` runs until signalled, even if every listener is disabled and nothing else holds the loop open.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const exit = (code: number): void => {
    clearInterval(keepAlive);
    exitAfterFlush(logger, io, code);
  };
  let signals = 0;
  const onSignal = (signal: string): void => {
    signals += 1;
    if (signals > 1) {
      io.stderr(`ferry: second ${signal}, exiting without finishing the drain\n`);
      exit(1);
      return;
    }
    io.stderr(`ferry: ${signal}, draining (up to ${config.drain.timeoutMs} ms; send again to force exit)\n`);
    logger.info({ signal }, 'draining');
    // Backstop in case drain() itself hangs past its own deadline; unref'd so it never keeps us alive.
    setTimeout(() => exit(1), config.drain.timeoutMs + 5000).unref();
    gateway.drain().then(
      ({ clean }) => {
        if (clean) logger.info('drained, exiting');
        else logger.warn('drain deadline passed with work left, exiting');
        exit(clean ? 0 : 1);
      },
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        exit(1);
      },
    );
  };
  io.onSignal('SIGTERM', onSignal);
  io.onSignal('SIGINT', onSignal);
  // SIGHUP: re-read the configuration and swap in its service routes (docs/upstreams.md); a bad file
  // is logged and the running table stays.
  io.onSignal('SIGHUP', () => {
    gateway.reloadRoutes().then(
      (routes) => logger.info({ routes }, 'routes reloaded (SIGHUP)'),
      (err: unknown) =>
        logger.error({ err: err instanceof Error ? err.message : err }, 'routes reload failed'),
    );
  });
  const open = openPermissions(config);
  if (open.length > 0) {
    const dev = usesDevelopmentDefaults(config);
    logger[dev ? 'info' : 'warn']({ open }, 'permissions open to every user (docs/security.md)');
  }
  // The banner comes last: whoever waits for it (a supervisor, a test) may signal at once.
  io.stderr(
    formatBanner({
      nodeId: gateway.nodeId,
      addresses: gateway.addresses,
      wtEngine: gateway.wtEngine,
      auth,
      tokenCommand: tokenHint(loadOpts, config),
      // The gateway has created the generated key by now; this reads the same file.
      ...(config.admin.enabled ? { adminKey: await loadAdminKey(config) } : {}),
      ...(Object.keys(config.access.apiKeys).length === 0 && config.access.clientCa === ''
        ? { grpcDevKeyPath: join(config.dataDir, 'access', 'dev-secret') }
        : {}),
      openPermissions: open,
    }),
  );
  logger.info({ addresses: gateway.addresses }, 'ferry started');
}

/** `npx ferry token --user alice`, plus whatever this start had that `token` could not know by itself. */
function tokenHint(loadOpts: LoadConfigOptions, config: FerryConfig): string {
  const parts = ['npx ferry token --user alice'];
  if (loadOpts.configPath !== undefined) parts.push(`--config ${shellQuote(loadOpts.configPath)}`);
  if (loadOpts.flags?.dataDir !== undefined) parts.push(`--data-dir ${shellQuote(config.dataDir)}`);
  if (loadOpts.flags?.authSecret !== undefined) parts.push('--secret <the --auth-secret value>');
  return parts.join(' ');
}

function shellQuote(s: string): string {
  return /^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function exitAfterFlush(logger: Logger, io: CliIo, code: number): void {
  // pino writes asynchronously; flush so the last lines (why we exited) are not lost.
  try {
    logger.flush(() => io.exit(code));
  } catch {
    io.exit(code);
  }
}

/** `ferry certs [--rotate]`: the certificate `ferry start` serves over WebTransport. */
async function certsCommand(io: CliIo, rotate: boolean, loadOpts: LoadConfigOptions): Promise<void> {
  const config = loadConfig(loadOpts);
  const { CaCertificate, CertificateManager } = await import('../webtransport/index.js');
  if (config.wt.cert !== '') {
    if (rotate) throw new UsageError('--rotate applies to development certificates; wt.cert is configured');
    const ca = await CaCertificate.load(config.wt.cert, config.wt.key);
    io.stdout(formatCertificates({ ca: true, current: ca.current(), next: null }));
    return;
  }
  const manager = await CertificateManager.open({ dataDir: config.dataDir, hostNames: [config.host] });
  const current = rotate ? await manager.rotate() : manager.current();
  io.stdout(formatCertificates({ ca: false, current, next: manager.next(), rotated: rotate }));
}

interface TokenOptions {
  user: string;
  device?: string;
  topics?: string;
  presence?: string;
  subscription?: string;
  ttl: string;
  secret?: string;
  kid?: string;
  dataDir?: string;
  config?: string;
}

async function tokenCommand(io: CliIo, opts: TokenOptions, loadOpts: LoadConfigOptions): Promise<void> {
  const ttlMs = parseDurationMs(opts.ttl);
  if (!(ttlMs > 0))
    throw new UsageError(
      `invalid --ttl: must be a duration like 10m, 1h or 1d, got ${JSON.stringify(opts.ttl)}`,
    );
  const config = loadConfig(loadOpts);
  const { secret, kid } = await signingKey(config, opts);
  const common = { ttlMs, secret, kid, issuer: config.auth.issuer, audience: config.auth.audience };
  try {
    if (opts.subscription !== undefined) {
      if (opts.device !== undefined || opts.topics !== undefined || opts.presence !== undefined)
        throw new UsageError(
          '--subscription makes a subscription token: --device, --topics and --presence do not apply',
        );
      io.stdout(
        `${await mintSubscriptionToken({ ...common, userId: opts.user, topic: opts.subscription })}\n`,
      );
      return;
    }
    const grants = { topics: commaList(opts.topics), presence: commaList(opts.presence) };
    const topicProblem = grantListProblem(grants.topics, config.limits.maxTopicLength);
    if (topicProblem !== null) throw new UsageError(`invalid --topics: ${topicProblem}`);
    const presenceProblem = grantListProblem(grants.presence, config.limits.maxUserIdLength);
    if (presenceProblem !== null) throw new UsageError(`invalid --presence: ${presenceProblem}`);
    const token = await mintToken({
      ...common,
      userId: opts.user,
      deviceId: opts.device,
      grants,
      maxIdBytes: config.limits.maxUserIdLength,
      reservedUserIds: config.auth.reservedUserIds,
    });
    io.stdout(`${token}\n`);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`invalid token options: ${err.message}`);
    throw err;
  }
}

/** `a, b,c` -> ['a', 'b', 'c']; undefined -> []. */
function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** --secret, else the configured HS256 secret (by --kid, the kid-less one, or the only one), else the dev secret. */
async function signingKey(config: FerryConfig, opts: TokenOptions): Promise<{ secret: string; kid: string }> {
  if (opts.secret !== undefined) return { secret: opts.secret, kid: opts.kid ?? '' };
  const secrets = config.auth.hmacSecrets;
  const kids = Object.keys(secrets);
  const list = kids.map((k) => JSON.stringify(k)).join(', ');
  if (opts.kid !== undefined) {
    const secret = secrets[opts.kid];
    if (secret === undefined)
      throw new UsageError(
        `no HS256 secret with kid ${JSON.stringify(opts.kid)} is configured (configured: ${list || 'none'})`,
      );
    return { secret, kid: opts.kid };
  }
  if (kids.length === 0) {
    if (hasConfiguredKeys(config.auth)) {
      throw new UsageError(
        'this node only accepts RS256/ES256 tokens from public keys; pass --secret, or mint tokens with your identity provider',
      );
    }
    const dev = await loadOrCreateDevSecret(config.dataDir);
    return { secret: dev.secret, kid: dev.kid };
  }
  const kid = '' in secrets ? '' : kids.length === 1 ? (kids[0] ?? '') : undefined;
  if (kid === undefined)
    throw new UsageError(`several HS256 secrets are configured (${list}); choose one with --kid`);
  return { secret: secrets[kid] ?? '', kid };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// Allows `node --import tsx src/cli/cli.ts start` during development; bin/ferry.js is the installed entry.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv);
}
