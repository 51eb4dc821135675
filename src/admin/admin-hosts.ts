/**
 * Host names on the admin port: the `Host` allow-list that keeps a DNS-rebinding page from reading the
 * admin port through the browser (the browser sends the attacker's name as `Host`), and the loopback
 * test that keeps the demo token route off the network. Pure functions, no sockets.
 */
import { isIP } from 'node:net';

/** The allow-list entry that admits any `Host` (for operators who check it in a proxy in front). */
export const ANY_HOST = '*';

/**
 * The host part of a `Host` header or of a configured name, normalized for comparison: lower case,
 * port removed, IPv6 brackets removed (RFC 9110 §7.2 and RFC 3986 §3.2.2: `[::1]:9090` -> `::1`),
 * one trailing dot removed (`localhost.` names the same host). Null when the value is not a host.
 */
export function normalizeHost(value: string): string | null {
  let s = value.trim().toLowerCase();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    s = s.slice(1, end);
    return isIP(s) === 6 ? s : null;
  }
  // More than one colon without brackets: only a bare IPv6 literal (config files may spell ::1 so).
  if (s.indexOf(':') !== s.lastIndexOf(':')) return isIP(s) === 6 ? s : null;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(s.slice(colon + 1))) return null;
    s = s.slice(0, colon);
  }
  if (s.endsWith('.')) s = s.slice(0, -1);
  // RFC 1123 names and IPv4 literals; `_` because internal DNS names carry it in practice.
  return /^[a-z0-9_](?:[a-z0-9_.-]{0,252}[a-z0-9_])?$/.test(s) ? s : null;
}

/** True for an address that binds no interface in particular (`0.0.0.0`, `::`). */
export function isWildcardHost(host: string): boolean {
  const h = normalizeHost(host);
  return h === '0.0.0.0' || h === '::';
}

/** True when binding `host` keeps a port on this machine: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = normalizeHost(host);
  if (h === null) return false;
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The `Host` values an admin port answers: the configured names, plus the address it binds when that
 * is a specific one (a request to `http://10.0.0.5:9090` names `10.0.0.5`).
 */
export class HostAllowList {
  private readonly hosts: ReadonlySet<string>;
  private readonly any: boolean;

  constructor(allowed: readonly string[], boundHost: string) {
    const names = [...allowed];
    if (!isWildcardHost(boundHost)) names.push(boundHost);
    this.any = names.includes(ANY_HOST);
    this.hosts = new Set(names.map(normalizeHost).filter((h): h is string => h !== null));
  }

  /** Whether a request with this `Host` header (undefined = none sent) may be answered. */
  allows(hostHeader: string | undefined): boolean {
    if (this.any) return true;
    if (hostHeader === undefined) return false;
    const h = normalizeHost(hostHeader);
    return h !== null && this.hosts.has(h);
  }
}
