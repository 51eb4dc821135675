/**
 * Builds self-signed X.509 v3 certificates (RFC 5280) for ECDSA P-256 keys with nothing but node:crypto
 * and a few DER (ITU-T X.690) writers. Ferry needs exactly one shape of certificate (the short-lived
 * development certificate that browsers pin with `serverCertificateHashes`), so a purpose-built encoder
 * of ~150 lines replaces a general X.509 library: @peculiar/x509 needs the `reflect-metadata` polyfill
 * installed globally (tsyringe refuses to load without it), and openssl may not be on the machine.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** What goes into a certificate; the caller supplies the key pair and the clock. */
export interface CertificateSpec {
  /** Common name of subject and issuer (they are the same: self-signed). */
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName extension (RFC 5280 §4.2.1.6). */
  altNames: readonly string[];
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

// Object identifiers (dotted form), each from the RFC that defines it.
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'; // RFC 5758 §3.2
const OID_COMMON_NAME = '2.5.4.3'; // RFC 5280 Appendix A.1
const OID_ORGANIZATION = '2.5.4.10';
const OID_SUBJECT_ALT_NAME = '2.5.29.17'; // RFC 5280 §4.2.1.6
const OID_BASIC_CONSTRAINTS = '2.5.29.19'; // RFC 5280 §4.2.1.9
const OID_KEY_USAGE = '2.5.29.15'; // RFC 5280 §4.2.1.3
const OID_EXT_KEY_USAGE = '2.5.29.37'; // RFC 5280 §4.2.1.12
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

// DER tags (X.690 §8): universal types, and context-specific tags of the certificate's grammar.
const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
/** GeneralName dNSName [2] and iPAddress [7], implicitly tagged primitives (RFC 5280 §4.2.1.6). */
const TAG_SAN_DNS = 0x82;
const TAG_SAN_IP = 0x87;

/**
 * Returns the DER bytes of a self-signed certificate for `spec`, signed with ECDSA-SHA256. The serial
 * is 16 random bytes (RFC 5280 §4.1.2.2: positive, at most 20 octets). Extensions: subjectAltName,
 * basicConstraints cA=false (critical), keyUsage digitalSignature (critical), extKeyUsage serverAuth.
 */
export function buildSelfSignedCertificate(spec: CertificateSpec): Buffer {
  const algorithm = seq(oid(OID_ECDSA_WITH_SHA256)); // RFC 5758 §3.2: parameters absent
  const name = seq(
    set(seq(oid(OID_ORGANIZATION), utf8('Ferry development'))),
    set(seq(oid(OID_COMMON_NAME), utf8(spec.commonName))),
  );
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // version v3
    integer(randomBytes(16)),
    algorithm,
    name,
    seq(time(spec.notBefore), time(spec.notAfter)),
    name,
    spki,
    explicit(3, seq(...extensions(spec.altNames))),
  );
  // node:crypto's ECDSA signature is the DER Ecdsa-Sig-Value that X.509 expects (RFC 5480 §2.2 / 5758 §3.2).
  const signature = sign('sha256', tbs, spec.privateKey);
  return seq(tbs, algorithm, bitString(signature));
}

/** PEM armour (RFC 7468 §2) around DER bytes, lines of 64 base64 characters. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function extensions(altNames: readonly string[]): Buffer[] {
  const names = altNames.map((n) => {
    const ip = ipBytes(n);
    return ip === null ? tlv(TAG_SAN_DNS, Buffer.from(n, 'ascii')) : tlv(TAG_SAN_IP, ip);
  });
  return [
    extension(OID_SUBJECT_ALT_NAME, false, seq(...names)),
    extension(OID_BASIC_CONSTRAINTS, true, seq()),
    // BIT STRING with 7 unused bits: only bit 0, digitalSignature (what TLS 1.3 ECDHE needs).
    extension(OID_KEY_USAGE, true, tlv(TAG_BIT_STRING, Buffer.from([0x07, 0x80]))),
    extension(OID_EXT_KEY_USAGE, false, seq(oid(OID_SERVER_AUTH))),
  ];
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // RFC 5280 §4.1: critical DEFAULT FALSE, so DER omits it when false (X.690 §11.5).
  const flag = critical ? [tlv(TAG_BOOLEAN, Buffer.from([0xff]))] : [];
  return seq(oid(id), ...flag, tlv(TAG_OCTET_STRING, value));
}

/** IPv4 or IPv6 address bytes, or null for a DNS name. */
function ipBytes(s: string): Buffer | null {
  if (isIPv4(s)) return Buffer.from(s.split('.').map(Number));
  if (!isIPv6(s)) return null;
  const [head = '', tail] = s.split('::') as [string, string | undefined];
  const groups = (part: string | undefined): number[] =>
    part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const left = groups(head);
  const right = groups(tail);
  const all =
    tail === undefined
      ? left
      : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** X.690 §8.1: tag, definite length (short form below 128, else long form), content. */
function tlv(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

function seq(...parts: Uint8Array[]): Buffer {
  return tlv(TAG_SEQUENCE, Buffer.concat(parts));
}

function set(...parts: Uint8Array[]): Buffer {
  return tlv(TAG_SET, Buffer.concat(parts));
}

/** [n] EXPLICIT: a constructed context-specific tag around the inner encoding. */
function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}

/** A non-negative INTEGER from big-endian bytes (X.690 §8.3: minimal, with a 0 byte if the top bit is set). */
function integer(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = Buffer.from(bytes.subarray(i));
  const needsPad = (trimmed[0] ?? 0) & 0x80;
  return tlv(TAG_INTEGER, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG_BIT_STRING, Buffer.concat([Buffer.from([0]), bytes])); // 0 unused bits
}

function utf8(s: string): Buffer {
  return tlv(TAG_UTF8_STRING, Buffer.from(s, 'utf8'));
}

/** X.690 §8.19: first two arcs packed as 40*a+b, then base-128 with continuation bits. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG_OID, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2025-03-01T12:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20250301120000
  return d.getUTCFullYear() < 2050
    ? tlv(TAG_UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(TAG_GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}
