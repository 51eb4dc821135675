import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, importSPKI, type CryptoKey, type JWK } from 'jose';
import { ConfigError } from '../../errors.js';

/** The only JWS algorithms Ferry accepts. `none`, HS384, PS256 and the rest are refused outright. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** The accepted algorithms, in the order they are listed in messages. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'RS256', 'ES256'];

/** RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (256 bits). */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * One imported verification key. `alg` is fixed by the key's type (HMAC secret -> HS256, RSA -> RS256,
 * EC P-256 -> ES256) when it is loaded, so a token can never choose how its key is interpreted.
 */
export interface VerificationKey {
  kid: string;
  alg: JwtAlgorithm;
  key: CryptoKey;
  /** Where the key came from, for operator messages (`auth.publicKeys.k1`, a file path). Never key material. */
  source: string;
}

/** The configured key material: HS256 secrets and public keys (PEM text, PEM file or JWKS file), by kid. */
export interface KeyMaterial {
  hmacSecrets: Record<string, string>;
  publicKeys: Record<string, string>;
}

/** `auth.publicKeys.k1`, or `auth.publicKeys[""]` when the kid is not a plain word. */
export function keyLabel(map: 'hmacSecrets' | 'publicKeys', kid: string): string {
  return /^[A-Za-z0-9_-]+$/.test(kid) ? `auth.${map}.${kid}` : `auth.${map}[${JSON.stringify(kid)}]`;
}

/** True when `value` is a path to read, rather than inline PEM text or inline JWK/JWKS JSON. */
export function isKeyPath(value: string): boolean {
  const v = value.trim();
  return !v.includes('-----BEGIN') && !v.startsWith('{');
}

/**
 * Reads and imports every configured key once (imports are the expensive, cacheable part; verification
 * results are never cached). Returns the keys by kid. Throws one ConfigError listing every bad key, so an
 * operator fixes them all in one go. Key ids must be unique across secrets, PEM keys and JWKS entries.
 */
export async function loadKeyRing(material: KeyMaterial): Promise<Map<string, VerificationKey>> {
  const problems: string[] = [];
  const ring = new Map<string, VerificationKey>();
  const add = (k: VerificationKey): void => {
    const other = ring.get(k.kid);
    if (other)
      problems.push(`key id ${JSON.stringify(k.kid)} is configured twice (${other.source} and ${k.source})`);
    else ring.set(k.kid, k);
  };

  for (const [kid, secret] of Object.entries(material.hmacSecrets)) {
    const label = keyLabel('hmacSecrets', kid);
    const bytes = new TextEncoder().encode(secret);
    if (bytes.length < MIN_HMAC_SECRET_BYTES) {
      // Say how long it is, never what it is.
      problems.push(`${label} must be at least ${MIN_HMAC_SECRET_BYTES} bytes, got ${bytes.length} bytes`);
      continue;
    }
    add({ kid, alg: 'HS256', key: await importHmacKey(bytes), source: label });
  }

  for (const [kid, value] of Object.entries(material.publicKeys)) {
    const label = keyLabel('publicKeys', kid);
    try {
      for (const k of await importPublicKeyEntry(kid, value, label)) add(k);
    } catch (err) {
      problems.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems.map((p) => `invalid config: ${p}`).join('\n'));
  return ring;
}

/** Imports raw secret bytes as a non-extractable HMAC-SHA-256 verify/sign key. */
export async function importHmacKey(bytes: Uint8Array): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/** One `auth.publicKeys` entry: inline PEM, inline JWK(S) JSON, or a path to a PEM or JWK(S) file. */
async function importPublicKeyEntry(kid: string, value: string, label: string): Promise<VerificationKey[]> {
  let text = value;
  let source = label;
  if (isKeyPath(value)) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new Error(`cannot read key file ${JSON.stringify(value)} (${code})`, { cause: err });
    }
    source = `${label} (${value})`;
  }
  if (text.includes('-----BEGIN')) return [await importPem(kid, text, source)];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('is neither PEM nor JWK/JWKS JSON');
  }
  return importJwks(kid, json, source);
}

async function importPem(kid: string, pem: string, source: string): Promise<VerificationKey> {
  // A verifier has no business holding a private key; refusing it keeps one out of config dumps.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error('is a private key; configure the public key (or certificate) instead');
  }
  let keyObject: KeyObject;
  try {
    // Accepts SPKI "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY" and X.509 "CERTIFICATE".
    keyObject = createPublicKey(pem);
  } catch {
    throw new Error('is not a valid PEM public key or certificate');
  }
  const alg = algorithmFor(keyObject);
  const spki = keyObject.export({ type: 'spki', format: 'pem' }).toString();
  return { kid, alg, key: await importSPKI(spki, alg), source };
}

/** The algorithm a public key is used with, or an error naming why it is not supported. */
function algorithmFor(keyObject: KeyObject): JwtAlgorithm {
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === 'rsa') {
    // RFC 7518 §3.3: RSA keys for RS256 MUST be 2048 bits or larger (jose enforces it too).
    if ((details.modulusLength ?? 0) < 2048) throw new Error('RSA key is shorter than 2048 bits');
    return 'RS256';
  }
  if (keyObject.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') {
      throw new Error(`EC key on curve ${details.namedCurve ?? '?'}; only P-256 (ES256) is supported`);
    }
    return 'ES256';
  }
  throw new Error(`${keyObject.asymmetricKeyType ?? 'unknown'} keys are not supported (RS256 or ES256 only)`);
}

/**
 * A JWKS (`{"keys": [...]}`) or a single JWK. Each key registers under its own `kid`, or under the
 * config entry's kid when it has none. Keys Ferry cannot use (encryption keys, other algorithms, other
 * curves) are skipped, because identity providers publish mixed sets; a set with no usable key is an error.
 */
async function importJwks(entryKid: string, json: unknown, source: string): Promise<VerificationKey[]> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  const list =
    isObject(json) && Array.isArray(json.keys) ? (json.keys as unknown[]) : isObject(json) ? [json] : [];
  const out: VerificationKey[] = [];
  for (const jwk of list) {
    if (!isObject(jwk) || jwk.use === 'enc') continue;
    const kid = typeof jwk.kid === 'string' ? jwk.kid : entryKid;
    let alg: JwtAlgorithm;
    let pub: JWK;
    // Copy only the public members, so a private JWK pasted by mistake is still used as a public key.
    if (jwk.kty === 'RSA' && (jwk.alg === undefined || jwk.alg === 'RS256')) {
      alg = 'RS256';
      pub = { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) };
    } else if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === 'ES256')) {
      alg = 'ES256';
      pub = { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) };
    } else {
      continue;
    }
    try {
      const key = (await importJWK(pub, alg)) as CryptoKey;
      const bits = (key.algorithm as { modulusLength?: number }).modulusLength;
      if (alg === 'RS256' && (bits ?? 0) < 2048) throw new Error('RSA key is shorter than 2048 bits');
      out.push({ kid, alg, key, source: `${source} kid ${JSON.stringify(kid)}` });
    } catch (err) {
      throw new Error(
        `JWK ${JSON.stringify(kid)} is invalid: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  if (out.length === 0) throw new Error('contains no RS256 or ES256 (P-256) signing key');
  return out;
}
