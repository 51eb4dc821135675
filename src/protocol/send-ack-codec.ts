/**
 * A hand-written encoder for Frame{id, send_ack} (proto/ferry/v1/frame.proto), the answer to every
 * Send with an id: sized first and written into one buffer, where protobufjs's writer builds a list
 * of operations per field and forks a writer for the nested message. The bytes are exactly what
 * `encodeFrame` / `encodeFramePrefixed` produce (checked by a property test against them).
 */
import { Buffer } from 'node:buffer';
import { LENGTH_PREFIX_BYTES } from './constants.js';
import { encodeFrame, encodeFramePrefixed } from './codec.js';
import { isVarintNumber, lenField, utf8Length, varintSize, writeString, writeVarint } from './wire-write.js';

/** The fields of a SendAck. */
export interface SendAckFields {
  clientMsgId: string;
  serverId: string;
  seq: number;
  timestampMs: number;
  duplicate: boolean;
}

/** Frame field 1 (id, varint) and field 13 (send_ack, length-delimited). */
const FRAME_ID_KEY = 1 << 3;
const FRAME_SEND_ACK_KEY = (13 << 3) | 2;
const KEY_CLIENT_MSG_ID = (1 << 3) | 2;
const KEY_SERVER_ID = (2 << 3) | 2;
const KEY_SEQ = 3 << 3;
const KEY_TIMESTAMP = 4 << 3;
const KEY_DUPLICATE = 5 << 3;

/**
 * Frame{id, send_ack: a}, length-prefixed (4 bytes, big-endian) when `prefixed`. An id outside
 * uint32 or a seq/timestamp that is not a non-negative safe integer goes through protobufjs.
 */
export function encodeSendAckFrame(id: number, a: SendAckFields, prefixed: boolean): Uint8Array {
  const { seq, timestampMs } = a;
  if (!(isVarintNumber(seq) && isVarintNumber(timestampMs) && id >= 0 && id <= 0xffffffff && id % 1 === 0)) {
    const frame = { id, sendAck: a };
    return prefixed ? encodeFramePrefixed(frame) : encodeFrame(frame);
  }
  const clientMsgIdLen = utf8Length(a.clientMsgId);
  const serverIdLen = utf8Length(a.serverId);
  const body =
    lenField(clientMsgIdLen) +
    lenField(serverIdLen) +
    (seq !== 0 ? 1 + varintSize(seq) : 0) +
    (timestampMs !== 0 ? 1 + varintSize(timestampMs) : 0) +
    (a.duplicate ? 2 : 0);
  const frameLen = (id !== 0 ? 1 + varintSize(id) : 0) + 1 + varintSize(body) + body;
  const head = prefixed ? LENGTH_PREFIX_BYTES : 0;
  const out = Buffer.allocUnsafe(head + frameLen);
  let at = 0;
  if (prefixed) at = out.writeUInt32BE(frameLen, 0);
  if (id !== 0) {
    out[at++] = FRAME_ID_KEY;
    at = writeVarint(out, at, id);
  }
  out[at++] = FRAME_SEND_ACK_KEY;
  at = writeVarint(out, at, body);
  at = writeString(out, at, KEY_CLIENT_MSG_ID, a.clientMsgId, clientMsgIdLen);
  at = writeString(out, at, KEY_SERVER_ID, a.serverId, serverIdLen);
  if (seq !== 0) {
    out[at++] = KEY_SEQ;
    at = writeVarint(out, at, seq);
  }
  if (timestampMs !== 0) {
    out[at++] = KEY_TIMESTAMP;
    at = writeVarint(out, at, timestampMs);
  }
  if (a.duplicate) {
    out[at] = KEY_DUPLICATE;
    out[at + 1] = 1;
  }
  return out;
}
