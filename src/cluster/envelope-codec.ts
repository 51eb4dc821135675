/**
 * The bytes of one stream entry: a batch of items (user envelopes, topic envelopes, control
 * messages) that one node published in one event-loop turn to one stream. Batching turns N XADDs
 * and N XACKs into one each, which is where most of the cross-node cost per message went.
 *
 * Layout, all integers big-endian:
 *   batch   = item*
 *   item    = kind:u8 length:u32 body[length]
 *   kind    = 1 user envelope | 2 topic envelope | 3 control message (UTF-8 JSON)
 *   envelope= version:u8 flags:u8 (bit0 qos 1, bit1 ephemeral) seq:f64 timestampMs:f64
 *             serverId fromUser fromDevice toUser topic clientMsgId [fromService] (each str16)
 *             payload:u32+bytes
 *   version = 1 without fromService (every client message), 2 with it (server-originated messages)
 *   str16   = length:u16 UTF-8 bytes
 * Rolling upgrades: a node writes version 1 whenever fromService is '', byte for byte what nodes
 * before version 2 wrote and read, and decodes both. A node older than version 2 cannot read a
 * version-2 item and drops the whole entry it came in as malformed (logged and counted); QoS-1
 * messages in it are in the store and reach their recipients on the next gap fetch or reconnect,
 * QoS-0 ones are lost. docs/cluster.md says this to operators.
 * Hand-written rather than protobuf: the bus sits below the protocol layer, and this encodes in one
 * pass into one buffer. Every decode checks bounds and throws EnvelopeDecodeError, never reads past
 * the input (fuzzed in test/unit/cluster/envelope-codec.test.ts).
 */
import type { ControlMessage, Envelope } from '../bus/bus.js';

export const ITEM_USER = 1;
export const ITEM_TOPIC = 2;
export const ITEM_CONTROL = 3;
export type ItemKind = typeof ITEM_USER | typeof ITEM_TOPIC | typeof ITEM_CONTROL;

/** Envelopes without fromService. */
const VERSION_1 = 1;
/** Envelopes with fromService (a 7th string after clientMsgId). */
const VERSION_2 = 2;
const FLAG_QOS1 = 1;
const FLAG_EPHEMERAL = 2;
const MAX_STR16 = 0xffff;

/** A stream entry that is not a valid batch (a bug or a foreign writer); it is dropped and counted. */
export class EnvelopeDecodeError extends Error {
  constructor(message: string) {
    super(`bad cluster batch: ${message}`);
    this.name = 'EnvelopeDecodeError';
  }
}

/** One decoded item. */
export type BatchItem =
  | { kind: typeof ITEM_USER; env: Envelope }
  | { kind: typeof ITEM_TOPIC; env: Envelope }
  | { kind: typeof ITEM_CONTROL; msg: ControlMessage };

/** Encodes one item (header included); batches are concatenations of items. */
export function encodeItem(kind: ItemKind, value: Envelope | ControlMessage): Buffer {
  if (kind === ITEM_CONTROL) {
    const json = Buffer.from(JSON.stringify(value));
    const out = Buffer.allocUnsafe(5 + json.length);
    out[0] = kind;
    out.writeUInt32BE(json.length, 1);
    json.copy(out, 5);
    return out;
  }
  const env = value as Envelope;
  const version = env.fromService === '' ? VERSION_1 : VERSION_2;
  const strs = [env.serverId, env.fromUser, env.fromDevice, env.toUser, env.topic, env.clientMsgId];
  if (version === VERSION_2) strs.push(env.fromService);
  let size = 5 + 2 + 16 + 4 + env.payload.length;
  for (const s of strs) size += 2 + Buffer.byteLength(s);
  const out = Buffer.allocUnsafe(size);
  out[0] = kind;
  out.writeUInt32BE(size - 5, 1);
  out[5] = version;
  out[6] = (env.qos === 1 ? FLAG_QOS1 : 0) | (env.ephemeral ? FLAG_EPHEMERAL : 0);
  out.writeDoubleBE(env.seq, 7);
  out.writeDoubleBE(env.timestampMs, 15);
  let at = 23;
  for (const s of strs) {
    const n = out.write(s, at + 2);
    if (n > MAX_STR16) throw new RangeError('string field over 65535 bytes');
    out.writeUInt16BE(n, at);
    at += 2 + n;
  }
  out.writeUInt32BE(env.payload.length, at);
  out.set(env.payload, at + 4);
  return out;
}

/** Decodes a whole batch; throws EnvelopeDecodeError on any malformed byte. */
export function decodeBatch(buf: Buffer): BatchItem[] {
  const items: BatchItem[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 5) throw new EnvelopeDecodeError('truncated item header');
    const kind = buf[at]!;
    const len = buf.readUInt32BE(at + 1);
    const start = at + 5;
    const end = start + len;
    if (end > buf.length) throw new EnvelopeDecodeError('item longer than the entry');
    if (kind === ITEM_USER || kind === ITEM_TOPIC) items.push({ kind, env: decodeEnvelope(buf, start, end) });
    else if (kind === ITEM_CONTROL)
      items.push({ kind, msg: decodeControl(buf.toString('utf8', start, end)) });
    else throw new EnvelopeDecodeError(`unknown item kind ${kind}`);
    at = end;
  }
  return items;
}

function decodeEnvelope(buf: Buffer, start: number, end: number): Envelope {
  if (end - start < 18) throw new EnvelopeDecodeError('truncated envelope');
  const version = buf[start];
  if (version !== VERSION_1 && version !== VERSION_2)
    throw new EnvelopeDecodeError(`unknown envelope version ${version}`);
  const flags = buf[start + 1]!;
  const seq = buf.readDoubleBE(start + 2);
  const timestampMs = buf.readDoubleBE(start + 10);
  if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isFinite(timestampMs))
    throw new EnvelopeDecodeError('bad seq or timestamp');
  let at = start + 18;
  const str = (): string => {
    if (at + 2 > end) throw new EnvelopeDecodeError('truncated string length');
    const n = buf.readUInt16BE(at);
    if (at + 2 + n > end) throw new EnvelopeDecodeError('truncated string');
    const s = buf.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return s;
  };
  const serverId = str();
  const fromUser = str();
  const fromDevice = str();
  const toUser = str();
  const topic = str();
  const clientMsgId = str();
  const fromService = version === VERSION_2 ? str() : '';
  if (at + 4 > end) throw new EnvelopeDecodeError('truncated payload length');
  const n = buf.readUInt32BE(at);
  if (at + 4 + n !== end) throw new EnvelopeDecodeError('payload length does not match the item');
  // A copy: the entry's buffer must not stay pinned by a payload a session queue holds on to.
  const payload = new Uint8Array(n);
  payload.set(buf.subarray(at + 4, end));
  return {
    serverId,
    seq,
    fromUser,
    fromDevice,
    toUser,
    topic,
    payload,
    timestampMs,
    qos: (flags & FLAG_QOS1) !== 0 ? 1 : 0,
    clientMsgId,
    ephemeral: (flags & FLAG_EPHEMERAL) !== 0,
    fromService,
  };
}

function decodeControl(text: string): ControlMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new EnvelopeDecodeError('control message is not JSON');
  }
  const m = v as Record<string, unknown>;
  const str = (k: string): boolean => typeof m[k] === 'string';
  if (m?.type === 'kick' && str('userId') && typeof m.code === 'number' && str('reason')) {
    if (m.deviceId !== undefined && !str('deviceId')) throw new EnvelopeDecodeError('bad kick deviceId');
    const kick: ControlMessage = {
      type: 'kick',
      userId: m.userId as string,
      code: m.code,
      reason: m.reason as string,
    };
    if (m.deviceId !== undefined) kick.deviceId = m.deviceId as string;
    return kick;
  }
  if (m?.type === 'replace' && str('userId') && str('deviceId') && str('keepSessionId'))
    return {
      type: 'replace',
      userId: m.userId as string,
      deviceId: m.deviceId as string,
      keepSessionId: m.keepSessionId as string,
    };
  throw new EnvelopeDecodeError('unknown control message');
}
