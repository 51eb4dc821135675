/**
 * Parsing and range-checking of one setting's value, whatever its source: a JSON value from the
 * config file, or a string from env and flags (`10s`, `64KiB`, `a,b,c`). Results say what the value
 * should have been, for the loader's `<setting> (from <source>) must be ..., got ...` messages.
 */
import { isAbsolute, resolve } from 'node:path';
import { ANY_HOST, normalizeHost } from '../admin/admin-hosts.js';
import { MIN_HMAC_SECRET_BYTES, isKeyPath } from '../auth/jwt/key-ring.js';
import { parseTopicRule } from '../auth/topic-policy.js';
import { identifierProblem } from '../protocol/identifier.js';
import { parseRouteTarget, parseUpstreamKind } from '../upstream/route-table.js';
import type { LeafSpec } from './setting.js';

const DAY = 24 * 3600_000;
const MIB = 1024 * 1024;

/** Where a value came from, for messages like `ws.port (from env FERRY_WS_PORT)`. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

/** `default`, `file /etc/ferry.json`, `env FERRY_WS_PORT`, `flag --ws-port`. */
export function describeSource(s: ConfigSource): string {
  switch (s.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${s.path}`;
    case 'env':
      return `env ${s.name}`;
    case 'flag':
      return `flag --${s.name}`;
  }
}

/** Parsing context: relative paths resolve against `baseDir`; env and flag values arrive as strings. */
export interface ParseContext {
  baseDir: string;
  fromString: boolean;
}

/**
 * A parsed value, or what the value should have been (`an integer 0-65535`) and, for values that must not
 * be echoed, what to say instead of the value (`6 bytes`).
 */
export type ParseResult = { ok: true; value: unknown } | { ok: false; expected: string; got?: string };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: DAY };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: MIB,
  gib: 1024 * MIB,
  kb: 1000,
  mb: 1000_000,
  gb: 1000_000_000,
};

/**
 * Parses and range-checks one value for `spec`. For map leaves `raw` is one entry's value (maps are set
 * entry by entry, so FERRY_AUTH_SECRET can add the kid-less secret beside the file's). Never throws.
 */
export function parseLeaf(spec: LeafSpec, raw: unknown, ctx: ParseContext): ParseResult {
  const k = spec.kind;
  switch (k.type) {
    case 'string': {
      const expected = k.expected ?? (k.nonEmpty ? 'a non-empty string' : 'a string');
      if (typeof raw !== 'string') return { ok: false, expected };
      if ((k.nonEmpty && raw.length === 0) || (k.pattern && !k.pattern.test(raw)))
        return { ok: false, expected };
      return { ok: true, value: raw };
    }
    case 'path':
      // '' stays '' (meaning "not set", e.g. no TLS); anything else becomes absolute.
      if (typeof raw !== 'string') return { ok: false, expected: 'a file or directory path' };
      return { ok: true, value: raw === '' ? '' : absolute(raw, ctx.baseDir) };
    case 'enum':
      return typeof raw === 'string' && k.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: `one of ${k.values.join(', ')}` };
    case 'bool':
      return parseBool(raw);
    case 'port':
      return parseInt(raw, 0, 65535, ctx.fromString);
    case 'int':
      return parseInt(raw, k.min, k.max, ctx.fromString);
    case 'duration':
      return inRange(
        parseUnits(raw, DURATION_UNITS, 'ms'),
        k.min,
        k.max,
        formatDuration,
        'a duration like 500ms, 10s, 5m or 1h (a bare number is ms)',
      );
    case 'size':
      return inRange(
        parseUnits(raw, SIZE_UNITS, 'b'),
        k.min,
        k.max,
        formatSize,
        'a size like 65536, 64KiB or 1MiB',
      );
    case 'origins':
      return parseOrigins(raw);
    case 'hosts':
      return parseHosts(raw);
    case 'idList':
      return parseIdList(raw);
    case 'map':
      if (k.entry === 'apiKey') return parseApiKey(raw);
      if (k.entry === 'route') return parseRouteTarget(raw);
      if (k.entry === 'upstreamKind') return parseUpstreamKind(raw);
      if (k.entry === 'topicRule') return parseTopicRule(raw);
      return k.entry === 'secret' ? parseSecret(raw) : parseKey(raw, ctx.baseDir);
  }
}

function absolute(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function parseBool(raw: unknown): ParseResult {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  const s = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (['true', '1', 'yes', 'on'].includes(s)) return { ok: true, value: true };
  if (['false', '0', 'no', 'off'].includes(s)) return { ok: true, value: false };
  return { ok: false, expected: 'true or false' };
}

function parseInt(raw: unknown, min: number, max: number, fromString: boolean): ParseResult {
  const n =
    typeof raw === 'number'
      ? raw
      : fromString && typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
        ? Number(raw)
        : NaN;
  return Number.isSafeInteger(n) && n >= min && n <= max
    ? { ok: true, value: n }
    : {
        ok: false,
        expected: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}-${max}`,
      };
}

/** `1.5s` -> 1500; a bare number (or numeric string) is taken in `bareUnit`. NaN when unparseable. */
function parseUnits(raw: unknown, units: Record<string, number>, bareUnit: string): number {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw : NaN;
  if (typeof raw !== 'string') return NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) return NaN;
  const unit = units[(m[2] || bareUnit).toLowerCase()];
  return unit === undefined ? NaN : Number(m[1]) * unit;
}

function inRange(
  n: number,
  min: number,
  max: number,
  fmt: (v: number) => string,
  expected: string,
): ParseResult {
  if (Number.isNaN(n)) return { ok: false, expected };
  const v = Math.round(n);
  if (v < min) return { ok: false, expected: `at least ${fmt(min)}` };
  if (v > max) return { ok: false, expected: `at most ${fmt(max)}` };
  return { ok: true, value: v };
}

/** Milliseconds from `500`, `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"1d"`; NaN when not a duration. */
export function parseDurationMs(raw: unknown): number {
  const n = parseUnits(raw, DURATION_UNITS, 'ms');
  return Number.isNaN(n) ? n : Math.round(n);
}

/** `90000` -> `1.5m`, for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', 3600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % (size / 10) === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `65536` -> `64KiB`, for messages. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 * MIB],
    ['MiB', MIB],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** A JSON array, or a comma list from env and flags, with each item mapped by `item` (null = invalid). */
function parseList(raw: unknown, expected: string, item: (v: unknown) => string | null): ParseResult {
  const items = typeof raw === 'string' ? commaList(raw) : raw;
  if (!Array.isArray(items)) return { ok: false, expected };
  const out: string[] = [];
  for (const v of items) {
    const parsed = item(v);
    if (parsed === null) return { ok: false, expected };
    out.push(parsed);
  }
  return { ok: true, value: out };
}

function parseOrigins(raw: unknown): ParseResult {
  return parseList(raw, 'a list of origins like https://app.example.com', originOf);
}

function originOf(item: unknown): string | null {
  if (typeof item !== 'string') return null;
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    return null;
  }
  // An Origin header is scheme://host[:port] only (RFC 6454 §6.2): anything more can never match.
  if (url.origin === 'null' || url.pathname.length > 1 || url.search || url.hash || url.username) return null;
  return url.origin;
}

/** Host names or IP literals without a port (`[::1]` and `::1` alike), or `*`. */
function parseHosts(raw: unknown): ParseResult {
  const expected = 'a list of host names or IP addresses without ports, like localhost,10.0.0.5 (or *)';
  return parseList(raw, expected, hostEntry);
}

function hostEntry(item: unknown): string | null {
  if (item === ANY_HOST) return ANY_HOST;
  // A port in the entry would be ignored when matching: refuse it rather than let it mislead.
  if (typeof item !== 'string' || /\]:|^[^:[]*:[^:]*$/.test(item)) return null;
  return normalizeHost(item);
}

/** `a, b,,c` -> ['a', 'b', 'c']: how env variables and flags spell lists. */
function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The longest id an id list may hold: the largest `limits.maxUserIdLength` allowed. */
const MAX_LISTED_ID_BYTES = 1024;

/** User ids (a JSON array, or a comma list from env and flags), each a valid identifier. */
function parseIdList(raw: unknown): ParseResult {
  const expected = 'a list of user ids (docs/protocol.md §5.9: no control or format characters)';
  const items = typeof raw === 'string' ? commaList(raw) : raw;
  if (!Array.isArray(items)) return { ok: false, expected };
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'string') return { ok: false, expected, got: `entry ${i}: a ${typeof item}` };
    const problem = identifierProblem(item, MAX_LISTED_ID_BYTES);
    if (problem !== null) return { ok: false, expected, got: `entry ${i} ${problem}` };
  }
  return { ok: true, value: [...new Set(items as string[])] };
}

function parseSecret(raw: unknown): ParseResult {
  const expected = `an HS256 secret of at least ${MIN_HMAC_SECRET_BYTES} bytes`;
  // RFC 7518 §3.2: the key must be at least as long as the hash output. Report the length, never the value.
  if (typeof raw !== 'string') return { ok: false, expected, got: `a ${raw === null ? 'null' : typeof raw}` };
  const bytes = Buffer.byteLength(raw);
  if (bytes >= MIN_HMAC_SECRET_BYTES) return { ok: true, value: raw };
  return { ok: false, expected, got: `${bytes} byte${bytes === 1 ? '' : 's'}` };
}

/** API keys are compared as given; 16+ characters keeps guessing out of reach. The value is never echoed. */
function parseApiKey(raw: unknown): ParseResult {
  const expected = 'an API key of 16-1024 characters without spaces';
  if (typeof raw !== 'string') return { ok: false, expected, got: `a ${raw === null ? 'null' : typeof raw}` };
  if (/^\S{16,1024}$/.test(raw)) return { ok: true, value: raw };
  return { ok: false, expected, got: `${raw.length} characters` };
}

function parseKey(raw: unknown, baseDir: string): ParseResult {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, expected: 'PEM text or the path of a PEM or JWKS file' };
  }
  return { ok: true, value: isKeyPath(raw) ? absolute(raw.trim(), baseDir) : raw };
}
