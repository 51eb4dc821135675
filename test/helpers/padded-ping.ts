/** Protobuf varint bytes of `n` (n < 2^53). */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}

/**
 * Frame { id, ping { timestamp_ms 1, <unknown field 15: `padding` bytes> } } without a length prefix:
 * a valid Ping of any size (decoders skip unknown fields), the way a flooder makes Pings expensive.
 */
export function paddedPing(id: number, padding: number): Buffer {
  const ping = Buffer.from([0x08, 0x01, 0x7a, ...varint(padding), ...Buffer.alloc(padding, 0x70)]);
  return Buffer.from([0x08, ...varint(id), 0x82, 0x01, ...varint(ping.length), ...ping]);
}
