/** Certificate hashes as `serverCertificateHashes` wants them (W3C WebTransport §6.4). */

/** SHA-256 digests are 32 bytes. */
const SHA256_BYTES = 32;

/** Decodes a SHA-256 hash written as 64 hex digits or as base64; throws TypeError otherwise. */
export function hashBytes(hash: string): Uint8Array {
  const text = hash.trim();
  let bytes: Uint8Array;
  if (/^[0-9a-f]{64}$/i.test(text)) {
    bytes = new Uint8Array(SHA256_BYTES);
    for (let i = 0; i < SHA256_BYTES; i++) bytes[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  } else {
    let binary: string;
    try {
      binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    } catch {
      throw new TypeError(`certificate hash is neither hex nor base64: ${hash}`);
    }
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  if (bytes.length !== SHA256_BYTES) throw new TypeError(`not a SHA-256 digest: ${hash}`);
  return bytes;
}
