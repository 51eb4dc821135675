/**
 * One certificate as Ferry serves it: generation of development certificates, inspection of PEM pairs
 * (validity, key match, the rules browsers apply to `serverCertificateHashes`), and the files under
 * `<dataDir>/certs/`. The rotation policy is in certs.ts.
 */
import { createHash, createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSelfSignedCertificate, toPem } from './cert-der.js';

const DAY_MS = 24 * 3600_000;
/** W3C WebTransport §4.4 (verify a certificate hash): the validity period must not exceed two weeks. */
export const MAX_PINNED_VALIDITY_MS = 14 * DAY_MS;
/** Lifetime of a development certificate, notBefore to notAfter: under the browsers' 14-day cap. */
export const DEV_CERT_VALIDITY_MS = 13 * DAY_MS;
/** notBefore lies this far in the past, so a client whose clock is a little behind accepts a new certificate. */
export const DEV_CERT_BACKDATE_MS = 3600_000;
/** Names every development certificate covers, besides the configured host names. */
export const DEFAULT_ALT_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** A certificate hash as the browser's `serverCertificateHashes` takes it (value: base64 of the digest). */
export interface CertificateHash {
  algorithm: 'sha-256';
  /** base64 of sha256(DER). */
  value: string;
  /** The same digest in lowercase hex, for humans and logs. */
  hex: string;
  /** ISO 8601: when the certificate expires; a client should fetch the hashes again before then. */
  notAfter: string;
}

/** A certificate and key in PEM, with what the rotation policy needs to know about it. */
export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  /** Files the pair was read from or written to ('' when it lives only in memory). */
  certPath: string;
  keyPath: string;
  notBefore: Date;
  notAfter: Date;
  hash: CertificateHash;
}

/**
 * Generates an ECDSA P-256 key and a self-signed certificate valid `validityMs` from `now - backdate`,
 * for `localhost`, `127.0.0.1`, `::1` and `hostNames`. Not written anywhere.
 */
export async function generateDevCertificate(opts: {
  now: number;
  hostNames?: readonly string[];
  validityMs?: number;
}): Promise<ServingCertificate> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>(
    (resolve, reject) =>
      generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, pub, priv) =>
        err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }),
      ),
  );
  // X.509 times have whole seconds; round so the validity span is exactly what was asked.
  const notBefore = new Date(Math.floor((opts.now - DEV_CERT_BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (opts.validityMs ?? DEV_CERT_VALIDITY_MS));
  const der = buildSelfSignedCertificate({
    commonName: 'localhost',
    altNames: altNamesFor(opts.hostNames),
    notBefore,
    notAfter,
    publicKey,
    privateKey,
  });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return inspectCertificate(toPem('CERTIFICATE', der), keyPem, '', '');
}

/** The default names plus `hostNames`, without duplicates and without wildcard bind addresses. */
export function altNamesFor(hostNames: readonly string[] = []): string[] {
  const extra = hostNames.filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::');
  return [...new Set([...DEFAULT_ALT_NAMES, ...extra])];
}

/**
 * Parses a PEM certificate (the first one of a chain) and its key. Throws if either does not parse or
 * the key does not belong to the certificate.
 */
export function inspectCertificate(
  certPem: string,
  keyPem: string,
  certPath: string,
  keyPath: string,
): ServingCertificate {
  const x509 = new X509Certificate(certPem);
  if (!x509.checkPrivateKey(createPrivateKey(keyPem)))
    throw new Error('the private key does not match the certificate');
  const digest = createHash('sha256').update(x509.raw).digest();
  const notAfter = new Date(x509.validTo);
  return {
    certPem,
    keyPem,
    certPath,
    keyPath,
    notBefore: new Date(x509.validFrom),
    notAfter,
    hash: {
      algorithm: 'sha-256',
      value: digest.toString('base64'),
      hex: digest.toString('hex'),
      notAfter: notAfter.toISOString(),
    },
  };
}

/**
 * Why a browser would refuse to pin this certificate by hash at time `now`, or why it does not cover
 * `hostNames`; null when it is fine. The W3C rules: ECDSA P-256 (P-384 also passes in Chromium, but
 * Ferry only makes P-256), validity span <= 14 days, currently valid.
 */
export function pinProblem(
  cert: ServingCertificate,
  now: number,
  hostNames: readonly string[] = [],
): string | null {
  const x509 = new X509Certificate(cert.certPem);
  const key = x509.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return 'not an ECDSA P-256 key';
  if (cert.notAfter.getTime() - cert.notBefore.getTime() > MAX_PINNED_VALIDITY_MS)
    return 'valid for more than 14 days';
  if (now < cert.notBefore.getTime()) return 'not valid yet';
  if (now >= cert.notAfter.getTime()) return 'expired';
  for (const name of altNamesFor(hostNames)) {
    const ok =
      name.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(name) ? x509.checkIP(name) : x509.checkHost(name);
    if (ok === undefined) return `does not cover ${name}`;
  }
  return null;
}

/** File names of one slot ('current' or 'next') in the certificate directory. */
export function slotPaths(dir: string, slot: 'current' | 'next'): { certPath: string; keyPath: string } {
  return { certPath: join(dir, `${slot}-cert.pem`), keyPath: join(dir, `${slot}-key.pem`) };
}

/** Reads a slot; null when a file is missing or the pair does not parse or match (e.g. a torn write). */
export async function readSlot(dir: string, slot: 'current' | 'next'): Promise<ServingCertificate | null> {
  const { certPath, keyPath } = slotPaths(dir, slot);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return inspectCertificate(certPem, keyPem, certPath, keyPath);
  } catch {
    return null;
  }
}

/**
 * Writes a certificate into a slot, key first, each through a temporary file renamed into place (so a
 * reader sees the old or the new file, never half of one); mode 0600, directory 0700.
 */
export async function writeSlot(
  dir: string,
  slot: 'current' | 'next',
  cert: ServingCertificate,
): Promise<ServingCertificate> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { certPath, keyPath } = slotPaths(dir, slot);
  await writePrivate(keyPath, cert.keyPem);
  await writePrivate(certPath, cert.certPem);
  return { ...cert, certPath, keyPath };
}

/** Moves the 'next' files over the 'current' ones (after a switch). */
export async function promoteNextSlot(dir: string, cert: ServingCertificate): Promise<ServingCertificate> {
  const next = slotPaths(dir, 'next');
  const current = slotPaths(dir, 'current');
  await rename(next.keyPath, current.keyPath);
  await rename(next.certPath, current.certPath);
  return { ...cert, ...current };
}

async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600); // `mode` applies only on creation: a leftover temporary file keeps its own
  await rename(tmp, path);
}
