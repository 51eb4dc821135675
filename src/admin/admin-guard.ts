/**
 * The checks the admin port runs before a handler sees a request: the bearer admin key, the refusal of
 * requests a browser marks as cross-site, the JSON-only rule for request bodies, and a bounded body
 * read. Each refusal has a stable code (docs/security.md, "The admin plane") and one HTTP status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Every way the admin port refuses a request before its handler runs: code -> HTTP status. The code is
 * the `code` of the JSON error body and the `reason` label of `ferry_admin_requests_refused_total`.
 */
export const ADMIN_REFUSALS = {
  /** RFC 9110 §15.5.20: this server does not answer for the name the request was sent to. */
  host_not_allowed: 421,
  unauthorized: 401,
  cross_site: 403,
  unsupported_media_type: 415,
  body_too_large: 413,
  body_timeout: 408,
  bad_json: 400,
} as const;
/** One refusal code (`host_not_allowed`, `unauthorized`, ...). */
export type AdminRefusal = keyof typeof ADMIN_REFUSALS;

/** Longest bearer value looked at; anything longer is refused before hashing. */
const MAX_KEY_CHARS = 1024;

/** Checks `Authorization: Bearer <key>` against the admin key without leaking it through timing. */
export class AdminKey {
  /** SHA-256 of the key: equal-length digests compare in constant time, whatever was presented. */
  private readonly digest: Buffer;

  constructor(key: string) {
    if (key === '') throw new RangeError('the admin key must not be empty');
    this.digest = sha256(key);
  }

  /** True when the request carries the admin key as a bearer token (RFC 6750 §2.1). */
  accepts(req: IncomingMessage): boolean {
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    const presented = m?.[1];
    if (presented === undefined || presented.length > MAX_KEY_CHARS) return false;
    return timingSafeEqual(this.digest, sha256(presented));
  }
}

/**
 * Why a browser would call this request cross-site, or null. Browsers mark every request with
 * `Sec-Fetch-Site` (Fetch Metadata) and send `Origin` on every POST; a page of another origin can send
 * a "simple" POST without CORS, so a state change must come from the admin's own origin or from a
 * client that is not a browser (curl, scripts: neither header).
 */
export function crossSiteReason(req: IncomingMessage): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site')
    return `the browser marked this request Sec-Fetch-Site: ${site}`;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  // The admin's own origin is scheme://<Host header>: the Host has already passed the allow-list.
  const host = (req.headers.host ?? '').toLowerCase();
  const o = origin.toLowerCase();
  if (host !== '' && (o === `http://${host}` || o === `https://${host}`)) return null;
  return `Origin ${origin.slice(0, 100)} is not this admin port's own origin`;
}

/**
 * True when a mutating request's body may be read: `Content-Type: application/json` (parameters such
 * as charset allowed), or no Content-Type and no body. A cross-site HTML form or no-cors fetch can only
 * send text/plain, urlencoded or multipart bodies, so it never passes.
 */
export function jsonOrEmpty(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type !== undefined) return type.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0);
}

/** The outcome of reading a request body. */
export type BodyRead =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'refused'; refusal: 'body_too_large' | 'body_timeout' }
  /** The client went away mid-body: nobody is left to answer. */
  | { kind: 'aborted' };

/**
 * Reads the whole body, at most `maxBytes` and within `timeoutMs` of being called (a slow-drip client
 * is cut at the deadline, not at Node's 30 s timeout check). Never rejects.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<BodyRead> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes)
    return Promise.resolve({ kind: 'refused', refusal: 'body_too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead): void => {
      clearTimeout(timer);
      req.off('data', reqOnData).off('end', reqOnEnd).off('close', reqOnClose);
      // The 'error' listener stays: a reset after we stopped reading must not become an uncaught error.
      resolve(result);
    };
    const reqOnData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish({ kind: 'refused', refusal: 'body_too_large' });
      else chunks.push(chunk);
    };
    const reqOnEnd = (): void => finish({ kind: 'ok', body: Buffer.concat(chunks, size) });
    const reqOnClose = (): void => {
      if (!req.complete) finish({ kind: 'aborted' });
    };
    const timer = setTimeout(() => finish({ kind: 'refused', refusal: 'body_timeout' }), timeoutMs);
    req.on('data', reqOnData).on('end', reqOnEnd).on('close', reqOnClose);
    req.on('error', () => finish({ kind: 'aborted' }));
  });
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
