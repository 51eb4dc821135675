/**
 * A hand-written encoder for the one frame every message becomes on its way out: Frame{deliver}
 * (proto/ferry/v1/frame.proto). protobufjs's generated encoder builds a list of operations per field
 * and forks a writer per nested message before it allocates the output; this sizes the frame first
 * and writes it into one buffer, with the stream framing's length prefix when asked. The bytes are
 * exactly what `encodeFrame({ deliver })` / `encodeFramePrefixed` produce (fields in number order,
 * proto3 defaults left out), checked by a property test against them.
 */
import { Buffer } from 'node:buffer';
import { LENGTH_PREFIX_BYTES } from './constants.js';
import { encodeFrame, encodeFramePrefixed, type FrameInit } from './codec.js';
import { isVarintNumber, lenField, utf8Length, varintSize, writeString, writeVarint } from './wire-write.js';

/** The fields of a Deliver frame, as the bus's Envelope carries them. */
export interface DeliverFields {
  serverId: string;
  seq: number;
  fromUser: string;
  fromDevice: string;
  topic: string;
  payload: Uint8Array;
  timestampMs: number;
  qos: number;
  clientMsgId: string;
  ephemeral: boolean;
  fromService: string;
}

/** Frame field 14 (deliver), wire type 2 (length-delimited). */
const FRAME_DELIVER_KEY = (14 << 3) | 2;
/** Deliver's field keys: (number << 3) | wire type. */
const KEY_SERVER_ID = (1 << 3) | 2;
const KEY_SEQ = 2 << 3;
const KEY_FROM_USER = (3 << 3) | 2;
const KEY_FROM_DEVICE = (4 << 3) | 2;
const KEY_TOPIC = (5 << 3) | 2;
const KEY_PAYLOAD = (6 << 3) | 2;
const KEY_TIMESTAMP = 7 << 3;
const KEY_QOS = 8 << 3;
const KEY_CLIENT_MSG_ID = (9 << 3) | 2;
const KEY_EPHEMERAL = 10 << 3;
const KEY_FROM_SERVICE = (11 << 3) | 2;

/**
 * The Deliver frame of `d`, length-prefixed (4 bytes, big-endian) when `prefixed`. Values this
 * encoder does not size (a seq or timestamp that is negative or not a safe integer, a qos outside
 * 0..127) go through protobufjs instead, so the output is always what it would write.
 */
export function encodeDeliverFrame(d: DeliverFields, prefixed: boolean): Uint8Array {
  const { seq, timestampMs, qos } = d;
  if (!(isVarintNumber(seq) && isVarintNumber(timestampMs) && qos >= 0 && qos < 128 && qos % 1 === 0)) {
    const frame: FrameInit = { deliver: d };
    return prefixed ? encodeFramePrefixed(frame) : encodeFrame(frame);
  }
  const serverIdLen = utf8Length(d.serverId);
  const fromUserLen = utf8Length(d.fromUser);
  const fromDeviceLen = utf8Length(d.fromDevice);
  const topicLen = utf8Length(d.topic);
  const clientMsgIdLen = utf8Length(d.clientMsgId);
  const fromServiceLen = utf8Length(d.fromService);
  const payloadLen = d.payload.length;
  const body =
    lenField(serverIdLen) +
    (seq !== 0 ? 1 + varintSize(seq) : 0) +
    lenField(fromUserLen) +
    lenField(fromDeviceLen) +
    lenField(topicLen) +
    lenField(payloadLen) +
    (timestampMs !== 0 ? 1 + varintSize(timestampMs) : 0) +
    (qos !== 0 ? 2 : 0) +
    lenField(clientMsgIdLen) +
    (d.ephemeral ? 2 : 0) +
    lenField(fromServiceLen);
  const frameLen = 1 + varintSize(body) + body;
  const head = prefixed ? LENGTH_PREFIX_BYTES : 0;
  const out = Buffer.allocUnsafe(head + frameLen);
  let at = 0;
  if (prefixed) at = out.writeUInt32BE(frameLen, 0);
  out[at++] = FRAME_DELIVER_KEY;
  at = writeVarint(out, at, body);
  at = writeString(out, at, KEY_SERVER_ID, d.serverId, serverIdLen);
  if (seq !== 0) {
    out[at++] = KEY_SEQ;
    at = writeVarint(out, at, seq);
  }
  at = writeString(out, at, KEY_FROM_USER, d.fromUser, fromUserLen);
  at = writeString(out, at, KEY_FROM_DEVICE, d.fromDevice, fromDeviceLen);
  at = writeString(out, at, KEY_TOPIC, d.topic, topicLen);
  if (payloadLen !== 0) {
    out[at++] = KEY_PAYLOAD;
    at = writeVarint(out, at, payloadLen);
    out.set(d.payload, at);
    at += payloadLen;
  }
  if (timestampMs !== 0) {
    out[at++] = KEY_TIMESTAMP;
    at = writeVarint(out, at, timestampMs);
  }
  if (qos !== 0) {
    out[at++] = KEY_QOS;
    out[at++] = qos;
  }
  at = writeString(out, at, KEY_CLIENT_MSG_ID, d.clientMsgId, clientMsgIdLen);
  if (d.ephemeral) {
    out[at++] = KEY_EPHEMERAL;
    out[at++] = 1;
  }
  writeString(out, at, KEY_FROM_SERVICE, d.fromService, fromServiceLen);
  return out;
}
