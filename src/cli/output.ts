/**
 * What the CLI prints for humans: option help lines, the startup banner, the effective config. Kept out of
 * cli.ts so the command wiring reads top to bottom; nothing here touches the process.
 */
import { redactConfig } from '../config/load.js';
import { defaultConfig, LEAVES, type FerryConfig } from '../config/schema.js';
import type { SettingSpec } from '../config/setting.js';
import { formatDuration, formatSize } from '../config/values.js';
import type { GatewayAddresses } from '../gateway.js';
import type { ServingCertificate } from '../webtransport/index.js';

/** Help text of one setting's flag: its purpose, its default and the env variable that also sets it. */
export function optionHelp(spec: SettingSpec): string {
  if (spec.negate) return `${spec.help} (env: ${spec.env}=false)`;
  return `${spec.help} (default: ${formatDefault(spec)}; env: ${spec.env})`;
}

function formatDefault(spec: SettingSpec): string {
  let value: unknown = defaultConfig();
  for (const part of spec.path.split('.')) value = (value as Record<string, unknown> | null)?.[part];
  const kind = LEAVES[spec.path]?.kind.type;
  if (spec.mapKey !== undefined || value === undefined || value === null || value === '') {
    return spec.path === 'nodeId' ? 'generated' : 'none';
  }
  if (kind === 'duration') return formatDuration(value as number);
  if (kind === 'size') return formatSize(value as number);
  if (Array.isArray(value)) return value.length === 0 ? 'any' : value.join(',');
  return String(value);
}

/** Extra help shown after `ferry start --help` and `ferry config print --help`. */
export const SETTINGS_HELP_FOOTER = `
Precedence: defaults < config file (--config, FERRY_CONFIG, or ./ferry.config.json) < env < flags.
Durations: a number of ms, or 500ms, 10s, 5m, 1h. Sizes: a number of bytes, or 64KiB, 1MiB.
The config file (JSON) may set any setting; see \`ferry config print\` for every key.`;

const LISTENER_LABELS: Record<string, string> = {
  wt: 'WebTransport',
  ws: 'WebSocket',
  tcp: 'TCP',
  grpc: 'gRPC',
  admin: 'Admin HTTP',
};

/** What the banner says about authentication. */
export type BannerAuth =
  | { kind: 'dev-secret'; path: string }
  | { kind: 'hmac'; kids: string[] }
  | { kind: 'public-keys-only'; kids: string[] };

/**
 * The human banner printed to stderr once every listener is bound: node id, one line per listener URL
 * (whatever `addresses` holds, so new listeners show up without touching this), how auth is set up, and
 * the command that mints a dev token (`tokenCommand`, which already carries --data-dir/--config if needed).
 */
export function formatBanner(info: {
  nodeId: string;
  addresses: GatewayAddresses;
  auth: BannerAuth;
  tokenCommand: string;
  /** Where the generated development API key of the gRPC access service is, when it is in use. */
  grpcDevKeyPath?: string;
  /**
   * The admin key and the file it is in (null when configured). The key itself is shown only when it
   * was generated and the node runs on its development secret: stderr may end up in production logs.
   */
  adminKey?: { key: string; path: string | null };
  /** What every user may do because a setting (or a development default) leaves it open. */
  openPermissions?: string[];
  /** The WebTransport listener's QUIC engine, when it runs. */
  wtEngine?: string | null;
}): string {
  const lines = [`Ferry node ${info.nodeId} is running`];
  const entries = Object.entries(
    info.addresses as Record<string, { host: string; url: string; bindUrl?: string } | undefined>,
  );
  const width = Math.max(0, ...entries.map(([name]) => (LISTENER_LABELS[name] ?? name).length)) + 2;
  for (const [name, address] of entries) {
    if (address) lines.push(`  ${(LISTENER_LABELS[name] ?? name).padEnd(width)}${whereListening(address)}`);
  }
  if (entries.length === 0) lines.push('  (no listeners enabled)');
  const admin = info.addresses.admin?.url;
  if (info.addresses.wt && info.wtEngine) {
    const what = info.wtEngine === 'native' ? 'ngtcp2 + GnuTLS (native addon)' : 'quiche (@matrixai/quic)';
    lines.push(`QUIC:       ${info.wtEngine} engine, ${what}; --wt-engine matrixai|native|auto chooses`);
  }
  if (info.addresses.wt && admin) {
    lines.push(`Browsers:   cert hashes ${admin}/webtransport/cert-hashes, test page ${admin}/wt-test`);
  }
  const key = info.adminKey;
  // The key rides in the URL fragment, which the browser never sends: the page reads it from there.
  const showKey = key?.path != null && info.auth.kind === 'dev-secret';
  const fragment = key === undefined ? '' : `#key=${showKey ? key.key : '<admin key>'}`;
  if (admin)
    lines.push(`Demo:       ${admin}/demo${fragment} (chat between two tabs through the client SDK)`);
  if (admin && key !== undefined) {
    const where = key.path !== null ? `contents of ${key.path}` : 'the configured admin.apiKey';
    lines.push(`Admin key:  ${where}, as Authorization: Bearer on POST routes and /stats (docs/security.md)`);
  }
  if (info.addresses.grpc && info.grpcDevKeyPath !== undefined) {
    lines.push(`gRPC API:   header x-api-key = contents of ${info.grpcDevKeyPath} (docs/access-api.md)`);
  }
  const kids = (list: string[]): string =>
    list.map((k) => (k === '' ? '(no kid)' : JSON.stringify(k))).join(', ');
  switch (info.auth.kind) {
    case 'dev-secret':
      lines.push(
        `Auth:       development HS256 secret ${info.auth.path} (kid "dev")`,
        '            configure auth.hmacSecrets or auth.publicKeys before production',
        `Dev token:  ${info.tokenCommand}`,
      );
      break;
    case 'hmac':
      lines.push(`Auth:       HS256 keys ${kids(info.auth.kids)}`, `Dev token:  ${info.tokenCommand}`);
      break;
    case 'public-keys-only':
      lines.push(
        `Auth:       RS256/ES256 keys ${kids(info.auth.kids)}; tokens come from your identity provider`,
      );
      break;
  }
  const open = info.openPermissions ?? [];
  open.forEach((what, i) => lines.push(`${i === 0 ? 'Open:' : ''}`.padEnd(12) + what));
  if (open.length > 0)
    lines.push('            set topics.rules and presence.visibility for production (docs/security.md)');
  lines.push('Stop:       Ctrl-C or SIGTERM drains the node (a second signal forces exit)');
  return `${lines.join('\n')}\n`;
}

/**
 * Where a listener really listens: on a wildcard bind, the bind URL, "all interfaces", and a URL that
 * works from this machine; otherwise the one URL.
 */
function whereListening(a: { url: string; bindUrl?: string }): string {
  if (a.bindUrl === undefined || a.bindUrl === a.url) return a.url;
  return `${a.bindUrl} (all interfaces; from this machine ${a.url})`;
}

/** The effective config as pretty JSON, secrets redacted; with `sources`, also where each value came from. */
export function formatConfig(
  config: FerryConfig,
  extra?: { sources: Record<string, string>; file: string | null },
): string {
  const redacted = redactConfig(config);
  const body = extra ? { file: extra.file, config: redacted, sources: extra.sources } : redacted;
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * What `ferry certs` prints: the files, validity and sha-256 of the certificate new WebTransport
 * connections get, the next one during a rotation overlap, and the `serverCertificateHashes` value.
 */
export function formatCertificates(info: {
  ca: boolean;
  current: ServingCertificate;
  next: ServingCertificate | null;
  rotated?: boolean;
}): string {
  const describe = (c: ServingCertificate): string[] => [
    `  certificate  ${c.certPath}`,
    `  key          ${c.keyPath}`,
    `  valid        ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()}`,
    `  sha-256      ${c.hash.value} (hex ${c.hash.hex})`,
  ];
  if (info.ca) {
    return `${[
      'WebTransport certificate (CA-issued, from wt.cert / wt.key): browsers verify it; no hashes needed',
      ...describe(info.current),
    ].join('\n')}\n`;
  }
  const certs = info.next ? [info.current, info.next] : [info.current];
  const hashes = certs.map((c) => ({ algorithm: c.hash.algorithm, value: c.hash.value }));
  const lines = [
    `WebTransport development certificate (ECDSA P-256, ${info.rotated ? 'just rotated' : 'rotated automatically by ferry start'})`,
    ...describe(info.current),
  ];
  if (info.next)
    lines.push('Next certificate (both hashes are published until the switch)', ...describe(info.next));
  lines.push(
    `serverCertificateHashes (base64 values): ${JSON.stringify(hashes)}`,
    'A running node serves the current hashes at http://<admin host:port>/webtransport/cert-hashes',
    'and picks up a rotation made here within 10 minutes.',
  );
  return `${lines.join('\n')}\n`;
}
