/**
 * The route table: client message type ranges -> business service (docs/upstreams.md). Built from the
 * `routes` and `upstream.services` config maps, validated as a whole (syntax, overlaps, unknown
 * services), and immutable: a reload builds a new table and swaps it in one assignment, so a lookup
 * never sees half of an old table and half of a new one.
 */
import { ConfigError } from '../errors.js';

/** Queue priorities, most urgent first (the index is the queue's rank). */
export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** How a service receives its messages. `gateway` is built in and answers in-process. */
export type UpstreamKind = 'grpc' | 'redis' | 'amqp' | 'gateway';
export const UPSTREAM_KINDS: readonly UpstreamKind[] = ['grpc', 'redis', 'amqp', 'gateway'];

/** The built-in service: the gateway itself (echo), no configuration needed. */
export const GATEWAY_SERVICE = 'gateway';

/** One contiguous range of message types. */
export interface Route {
  readonly from: number;
  readonly to: number;
  readonly service: string;
  readonly priority: Priority;
}

/** Largest message type (`ServiceRequest.type` is a uint32; 0 is refused by validation). */
export const MAX_TYPE = 0xffff_ffff;

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RANGE = /^(\d{1,10})(?:-(\d{1,10}))?$/;

/** Parses a `routes` value (`service` or `service:priority`); the shape of a config leaf parser. */
export function parseRouteTarget(
  raw: unknown,
): { ok: true; value: string } | { ok: false; expected: string } {
  const expected = 'a service name, optionally with a priority (logic, chat:high)';
  if (typeof raw !== 'string') return { ok: false, expected };
  const [service = '', priority, extra] = raw.split(':');
  if (extra !== undefined || !SERVICE_NAME.test(service)) return { ok: false, expected };
  if (priority !== undefined && !(PRIORITIES as readonly string[]).includes(priority))
    return { ok: false, expected: `a priority of ${PRIORITIES.join(', ')} after the colon` };
  return { ok: true, value: raw };
}

/** Parses an `upstream.services` value. */
export function parseUpstreamKind(
  raw: unknown,
): { ok: true; value: string } | { ok: false; expected: string } {
  return typeof raw === 'string' && (UPSTREAM_KINDS as readonly string[]).includes(raw)
    ? { ok: true, value: raw }
    : { ok: false, expected: `one of ${UPSTREAM_KINDS.join(', ')}` };
}

/** An immutable, validated route table. */
export class RouteTable {
  /** Sorted by `from`, non-overlapping. */
  readonly routes: readonly Route[];
  /** Every service a route or `upstream.services` names, with its kind. */
  readonly services: ReadonlyMap<string, UpstreamKind>;

  private constructor(routes: Route[], services: Map<string, UpstreamKind>) {
    this.routes = routes;
    this.services = services;
  }

  /** An empty table: every type is unrouted. */
  static empty(): RouteTable {
    return new RouteTable([], new Map());
  }

  /**
   * Builds a table, or throws ConfigError listing every problem (one per line): a key that is not a
   * type or range, overlapping ranges, a route to a service that `upstream.services` does not name.
   */
  static build(routes: Record<string, string>, services: Record<string, string>): RouteTable {
    const problems = routeProblems(routes, services);
    if (problems.length > 0) throw new ConfigError(problems.map((p) => `invalid config: ${p}`).join('\n'));
    const kinds = new Map<string, UpstreamKind>();
    for (const [name, kind] of Object.entries(services)) kinds.set(name, kind as UpstreamKind);
    const list: Route[] = [];
    for (const [key, target] of Object.entries(routes)) {
      const [from, to] = parseRange(key)!;
      const [service = '', priority = 'normal'] = target.split(':');
      if (service === GATEWAY_SERVICE) kinds.set(GATEWAY_SERVICE, 'gateway');
      list.push({ from, to, service, priority: priority as Priority });
    }
    list.sort((a, b) => a.from - b.from);
    return new RouteTable(list, kinds);
  }

  /** The route of a message type, or undefined. Binary search: tables may hold many ranges. */
  lookup(type: number): Route | undefined {
    const r = this.routes;
    let lo = 0;
    let hi = r.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const route = r[mid]!;
      if (type < route.from) hi = mid - 1;
      else if (type > route.to) lo = mid + 1;
      else return route;
    }
    return undefined;
  }

  /** The table as config-shaped JSON, for /stats and the reload answer. */
  describe(): { types: string; service: string; kind: string; priority: Priority }[] {
    return this.routes.map((r) => ({
      types: r.from === r.to ? String(r.from) : `${r.from}-${r.to}`,
      service: r.service,
      kind: this.services.get(r.service) ?? 'unknown',
      priority: r.priority,
    }));
  }
}

/** `1000-1999` -> [1000, 1999]; `42` -> [42, 42]; undefined when malformed or out of 1..2^32-1. */
export function parseRange(key: string): [number, number] | undefined {
  const m = RANGE.exec(key.trim());
  if (m === null) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > MAX_TYPE || from > to) return undefined;
  return [from, to];
}

/** Every problem of a route configuration, as config-error lines (no prefix). */
export function routeProblems(routes: Record<string, string>, services: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, kind] of Object.entries(services)) {
    if (!SERVICE_NAME.test(name))
      problems.push(`upstream.services key ${JSON.stringify(name)} must be up to 64 of A-Z a-z 0-9 . _ -`);
    if (!parseUpstreamKind(kind).ok)
      problems.push(`upstream.services.${name} must be one of ${UPSTREAM_KINDS.join(', ')}`);
  }
  const ranges: { from: number; to: number; key: string }[] = [];
  for (const [key, target] of Object.entries(routes)) {
    const range = parseRange(key);
    if (range === undefined) {
      problems.push(`routes key ${JSON.stringify(key)} must be a message type or range like 1000-1999`);
      continue;
    }
    ranges.push({ from: range[0], to: range[1], key });
    const parsed = parseRouteTarget(target);
    if (!parsed.ok) {
      problems.push(`routes.${key} must be ${parsed.expected}, got ${JSON.stringify(target)}`);
      continue;
    }
    const service = target.split(':')[0]!;
    if (service !== GATEWAY_SERVICE && !(service in services))
      problems.push(
        `routes.${key} names service ${JSON.stringify(service)}, which upstream.services does not list`,
      );
  }
  ranges.sort((a, b) => a.from - b.from);
  for (let i = 1; i < ranges.length; i++) {
    const [prev, cur] = [ranges[i - 1]!, ranges[i]!];
    if (cur.from <= prev.to) problems.push(`routes ${prev.key} and ${cur.key} overlap`);
  }
  return problems;
}
