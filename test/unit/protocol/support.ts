/**
 * Shared pieces of the protocol tests: fast-check generators of frames and a canonical plain form
 * that compares decoded frames (class instances with prototype defaults) with frame literals.
 */
import fc from 'fast-check';
import { DisconnectCode, ProtocolError } from '../../../src/errors.js';
import { BODY_FIELD_NUMBERS } from '../../../src/protocol/constants.js';
import { prefixLength, type FrameInit } from '../../../src/protocol/codec.js';

export type BodyName = keyof typeof BODY_FIELD_NUMBERS;
export const BODY_NAMES = Object.keys(BODY_FIELD_NUMBERS) as BodyName[];

/** Bytes from a hex string (spaces allowed). */
export function fromHex(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Canonical plain form of a frame: proto3 cannot tell a default value from an absent one, so defaults
 * (0, "", false, empty bytes and lists) are dropped; bytes become hex; the body name is explicit.
 * Works for frame literals and for decoded frames (whose defaults live on prototypes).
 */
export function canonical(frame: object): Record<string, unknown> {
  const f = frame as Record<string, unknown>;
  const body = BODY_NAMES.find((name) => f[name] !== undefined && f[name] !== null);
  const out: Record<string, unknown> = { body };
  if (typeof f.id === 'number' && f.id !== 0) out.id = f.id;
  if (body !== undefined) out[body] = canonicalMessage(f[body] as object);
  return out;
}

function canonicalMessage(msg: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // for..in on purpose: decoded messages keep defaults as enumerable prototype properties.
  for (const key in msg) {
    if (key === '$unknowns') continue;
    const value = canonicalValue((msg as Record<string, unknown>)[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined || value === 0 || value === '' || value === false)
    return undefined;
  if (value instanceof Uint8Array) return value.length === 0 ? undefined : toHex(value);
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v) => canonicalMessageOr(v));
  if (typeof value === 'object') return canonicalMessage(value);
  if (typeof value === 'function') return undefined;
  return value;
}

function canonicalMessageOr(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? canonicalMessage(value) : value;
}

/** Asserts `fn` throws a ProtocolError with `code`; returns it for further checks. */
export function expectProtocolError(fn: () => unknown, code: DisconnectCode): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError))
      throw new Error(`expected ProtocolError ${code}, got ${String(err)}`, { cause: err });
    if (err.disconnectCode !== code) {
      throw new Error(`expected ProtocolError ${code}, got ${err.disconnectCode}: ${err.message}`, {
        cause: err,
      });
    }
    return err;
  }
  throw new Error(`expected ProtocolError ${code}, nothing was thrown`);
}

/** Concatenates frames into one stream of length-prefixed frames. */
export function streamOf(bodies: Uint8Array[]): Buffer {
  return Buffer.concat(bodies.map((b) => prefixLength(b)));
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, clamped) into chunks. */
export function cutAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => Math.min(Math.max(o, 0), bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}

// ---- fast-check generators of well-formed frames (any field values the schema allows) ----

const str = fc.string({ unit: 'binary', maxLength: 24 });
const u32 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x10000 + lo);
const u64 = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const i64 = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger());
// QoS is an open proto3 enum: unknown values must survive a round trip (validation refuses them).
const qos = fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const payload = fc.uint8Array({ maxLength: 64 });
const opt = { requiredKeys: [] as never[] };

const devicePresence = fc.record({ deviceId: str, transport: str, nodeId: str, sinceMs: i64 }, opt);

/** A generator of every body, by name. */
export const bodyArbitraries: Record<BodyName, fc.Arbitrary<object>> = {
  authenticate: fc.record({ token: str, deviceId: str, lastSeq: u64, client: str }, opt),
  authResult: fc.record(
    {
      userId: str,
      deviceId: str,
      sessionId: str,
      nodeId: str,
      heartbeatMs: u32,
      idleTimeoutMs: u32,
      maxFrameBytes: u32,
      ackedSeq: u64,
      expiresAtMs: i64,
    },
    opt,
  ),
  send: fc.record({ toUser: str, payload, qos, clientMsgId: str, ephemeral: fc.boolean() }, opt),
  sendAck: fc.record(
    { clientMsgId: str, serverId: str, seq: u64, timestampMs: i64, duplicate: fc.boolean() },
    opt,
  ),
  deliver: fc.record(
    {
      serverId: str,
      seq: u64,
      fromUser: str,
      fromDevice: str,
      topic: str,
      payload,
      timestampMs: i64,
      qos,
      clientMsgId: str,
      ephemeral: fc.boolean(),
    },
    opt,
  ),
  ack: fc.record({ seq: u64 }, opt),
  ping: fc.record({ timestampMs: i64 }, opt),
  pong: fc.record({ timestampMs: i64 }, opt),
  subscribe: fc.record({ topic: str, sinceSeq: u64 }, opt),
  unsubscribe: fc.record({ topic: str }, opt),
  publish: fc.record({ topic: str, payload, qos, clientMsgId: str, ephemeral: fc.boolean() }, opt),
  presenceQuery: fc.record({ userIds: fc.array(str, { maxLength: 5 }) }, opt),
  presenceResult: fc.record(
    {
      users: fc.array(
        fc.record(
          { userId: str, online: fc.boolean(), devices: fc.array(devicePresence, { maxLength: 3 }) },
          opt,
        ),
        { maxLength: 4 },
      ),
    },
    opt,
  ),
  reply: fc.record({ topicSeq: u64 }, opt),
  error: fc.record({ code: u32, message: str, retryable: fc.boolean(), retryAfterMs: u32 }, opt),
  disconnect: fc.record(
    { code: u32, reason: str, reconnect: fc.boolean(), reconnectDelayMs: u32, reconnectUrl: str },
    opt,
  ),
  serviceRequest: fc.record({ type: u32, payload, msgId: str }, opt),
  serviceAck: fc.record({ msgId: str, service: str, duplicate: fc.boolean() }, opt),
};

/** Any well-formed frame: an optional id and exactly one body. */
export const frameArbitrary: fc.Arbitrary<FrameInit> = fc
  .tuple(
    fc.option(u32, { nil: undefined }),
    fc.oneof(...BODY_NAMES.map((name) => bodyArbitraries[name].map((body) => ({ [name]: body })))),
  )
  .map(([id, body]) => (id === undefined ? body : { id, ...body }) as FrameInit);

/** ProtocolError codes the decoding path may produce. */
export const DECODE_CODES: ReadonlySet<number> = new Set([
  DisconnectCode.BAD_FRAME,
  DisconnectCode.FRAME_TOO_LARGE,
  DisconnectCode.UNKNOWN_FRAME_TYPE,
]);
