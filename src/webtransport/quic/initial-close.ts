/**
 * A stateless CONNECTION_CLOSE in an Initial packet (RFC 9000 §10.2.3, §17.2.2; RFC 9001 §5), for
 * refusing a connection before any connection state or TLS work exists.
 *
 * Why not let the engine do it: to address an answer, quiche must read the client's Initial, which
 * runs the server's side of the TLS handshake; it then sends its CONNECTION_CLOSE in the Handshake
 * epoch only, which a client that never received the ServerHello cannot decrypt (it learns of the
 * refusal seconds later, after its own retransmissions). Initial packets are protected with keys
 * derived from the client's destination connection id alone, so the server can build a readable
 * close from the client's packet header without any state.
 */
import { createCipheriv, createHmac } from 'node:crypto';

/** RFC 9000 §15: QUIC version 1. */
export const QUIC_V1 = 0x00000001;
/** RFC 9001 §5.2: the Initial salt of QUIC version 1. */
const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
/** RFC 9000 §19.19: CONNECTION_CLOSE carrying a transport error. */
const FRAME_CONNECTION_CLOSE = 0x1c;
/** RFC 9000 §12.4: PADDING. */
const FRAME_PADDING = 0x00;
/** RFC 9001 §5.3: AEAD_AES_128_GCM tag length. */
const TAG_BYTES = 16;
/** RFC 9001 §5.4.2: the header-protection sample starts 4 bytes after the packet number's start. */
const SAMPLE_OFFSET = 4;
const SAMPLE_BYTES = 16;
/** One-byte packet numbers (packet number 0). */
const PN_BYTES = 1;
/** Reason phrases are cut to this many bytes, so the packet stays small. */
const MAX_REASON_BYTES = 128;

/** Initial protection keys of one direction. */
export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** RFC 8446 §7.1 HKDF-Expand-Label with an empty context, for outputs of at most 32 bytes. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // context length
  info[4 + full.length] = 1; // HKDF-Expand counter: one SHA-256 block is enough
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** RFC 9001 §5.2: the server's Initial keys for a client that sent its Initial to `clientDcid`. */
export function serverInitialKeys(clientDcid: Uint8Array): InitialKeys {
  const initialSecret = createHmac('sha256', INITIAL_SALT_V1).update(clientDcid).digest();
  const secret = expandLabel(initialSecret, 'server in', 32);
  return {
    key: expandLabel(secret, 'quic key', 16),
    iv: expandLabel(secret, 'quic iv', 12),
    hp: expandLabel(secret, 'quic hp', 16),
  };
}

/** RFC 9000 §16: a variable-length integer (values below 2^30 are all this needs). */
function varint(value: number): Buffer {
  if (value < 0x40) return Buffer.of(value);
  if (value < 0x4000) return Buffer.of(0x40 | (value >> 8), value & 0xff);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | value) >>> 0);
  return b;
}

/**
 * Builds a version 1 Initial packet from the server carrying CONNECTION_CLOSE with the transport
 * error `code` and `reason`: destination id = the client's source id, source id = the id the client
 * sent its Initial to (whose keys protect it). Returns the datagram to send.
 */
export function initialConnectionClose(
  clientScid: Uint8Array,
  clientDcid: Uint8Array,
  code: number,
  reason: string,
): Buffer {
  const phrase = Buffer.from(reason).subarray(0, MAX_REASON_BYTES);
  const frame = Buffer.concat([
    varint(FRAME_CONNECTION_CLOSE),
    varint(code),
    varint(0), // the frame type that caused the error: none
    varint(phrase.length),
    phrase,
  ]);
  // The header-protection sample needs SAMPLE_OFFSET + SAMPLE_BYTES bytes after the packet number's start.
  const minPlain = SAMPLE_OFFSET + SAMPLE_BYTES - PN_BYTES - TAG_BYTES;
  const plain =
    frame.length >= minPlain
      ? frame
      : Buffer.concat([frame, Buffer.alloc(minPlain - frame.length, FRAME_PADDING)]);
  const payloadLength = PN_BYTES + plain.length + TAG_BYTES;
  // RFC 9000 §17.2.2: form 1, fixed 1, type 0 (Initial), packet number length - 1 in the low bits.
  const header = Buffer.concat([
    Buffer.of(0xc0 | (PN_BYTES - 1)),
    Buffer.from([0, 0, 0, QUIC_V1]),
    Buffer.of(clientScid.length),
    clientScid,
    Buffer.of(clientDcid.length),
    clientDcid,
    varint(0), // token length: servers send none
    varint(payloadLength),
    Buffer.alloc(PN_BYTES), // packet number 0
  ]);
  const keys = serverInitialKeys(clientDcid);
  // RFC 9001 §5.3: nonce = iv XOR packet number (0), associated data = the unprotected header.
  const aead = createCipheriv('aes-128-gcm', keys.key, keys.iv);
  aead.setAAD(header);
  const sealed = Buffer.concat([aead.update(plain), aead.final(), aead.getAuthTag()]);
  const packet = Buffer.concat([header, sealed]);
  // RFC 9001 §5.4: header protection masks the low 4 bits of the first byte and the packet number.
  const pnOffset = header.length - PN_BYTES;
  const sample = packet.subarray(pnOffset + SAMPLE_OFFSET, pnOffset + SAMPLE_OFFSET + SAMPLE_BYTES);
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(sample);
  packet[0] = packet[0]! ^ (mask[0]! & 0x0f);
  for (let i = 0; i < PN_BYTES; i++) packet[pnOffset + i] = packet[pnOffset + i]! ^ mask[1 + i]!;
  return packet;
}
