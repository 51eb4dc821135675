/**
 * Who is calling the access gateway. A caller presents an API key in metadata (`x-api-key: <key>` or
 * `authorization: Bearer <key>`), or, when the server requires client certificates (mTLS), a
 * certificate signed by the configured CA, whose subject CN becomes the caller's name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { AuthError } from '../errors.js';
import type { Caller } from './access-service.js';

/** Longest API key accepted in metadata (anything longer is refused before hashing). */
const MAX_KEY_CHARS = 1024;

/** The part of a grpc-js server call the check reads. */
export type CallerSource = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>;

/** Checks callers against the configured API keys (name -> key) and, with mTLS, client certificates. */
export class CallerAuth {
  /** SHA-256 of each key: compared in constant time, and the keys themselves are not kept. */
  private readonly digests: { name: string; digest: Buffer }[];

  constructor(apiKeys: Record<string, string>) {
    this.digests = Object.entries(apiKeys).map(([name, key]) => ({ name, digest: sha256(key) }));
  }

  /** The caller, or AuthError (gRPC UNAUTHENTICATED) saying what is missing or wrong. */
  identify(call: CallerSource): Caller {
    const cert = call.getAuthContext().sslPeerCertificate;
    // A certificate only reaches here when the server verified it against access.tls.clientCa.
    if (cert !== undefined && cert !== null && Object.keys(cert).length > 0) {
      const cn = cert.subject?.CN;
      return { name: `cert:${Array.isArray(cn) ? cn.join(',') : (cn ?? 'unnamed')}` };
    }
    const key = presentedKey(call.metadata);
    if (key === '') throw new AuthError('missing API key (metadata x-api-key or authorization: Bearer)');
    if (key.length > MAX_KEY_CHARS) throw new AuthError('API key not accepted');
    const digest = sha256(key);
    let found: string | undefined;
    // Every key is compared, so the time taken does not tell which (if any) matched.
    for (const k of this.digests)
      if (timingSafeEqual(k.digest, digest) && found === undefined) found = k.name;
    if (found === undefined) throw new AuthError('API key not accepted');
    return { name: found };
  }
}

function presentedKey(md: grpc.Metadata): string {
  const direct = md.get('x-api-key')[0];
  if (typeof direct === 'string' && direct !== '') return direct.trim();
  const auth = md.get('authorization')[0];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m?.[1] !== undefined) return m[1];
  }
  return '';
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
