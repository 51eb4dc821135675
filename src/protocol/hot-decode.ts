/**
 * A fast path for the client frames every message brings: Send and Ack (a QoS-1 recipient's receipt).
 * protobufjs's generated decoder sets a oneof through a setter that deletes the other 17 body fields
 * of Frame on every decode, and reads through a general reader; this reads the one layout clients
 * write (proto3 canonical order: id, then the body; each field once, in field-number order, ASCII
 * strings, short varints) straight from the bytes. Anything else, valid or not, returns null and the
 * caller decodes with protobufjs, so the fast path never decides what is malformed and never differs
 * from the generated decoder: a property test checks that both give the same Frame.
 */
import { ferry } from './generated/frame.js';

const FrameCtor = ferry.v1.Frame;
const SendCtor = ferry.v1.Send;
const AckCtor = ferry.v1.Ack;

/** Tags: (field << 3) | wire type. */
const TAG_ID = 1 << 3;
const TAG_SEND = (12 << 3) | 2;
const TAG_ACK = (15 << 3) | 2;
/** Largest varint read here: 7 bytes (49 bits) stays a safe integer. */
const MAX_VARINT_BYTES = 7;

/** Reading state: the position, or -1 once the bytes leave the fast path. */
let pos = 0;

/**
 * The Frame of `buf` when it is a Send or Ack in canonical layout, else null (decode it with
 * `decodeFrame`). The result is what protobufjs would build: a Frame instance with only non-default
 * fields set, and a payload that owns its memory.
 */
export function decodeHotFrame(buf: Buffer): ferry.v1.Frame | null {
  const end = buf.length;
  pos = 0;
  let id = 0;
  if (end > 0 && buf[0] === TAG_ID) {
    pos = 1;
    id = varint(buf, end);
    if (pos < 0 || id > 0xffffffff) return null;
  }
  if (pos >= end) return null;
  const tag = buf[pos++]!;
  if (tag !== TAG_SEND && tag !== TAG_ACK) return null;
  const len = varint(buf, end);
  if (pos < 0 || pos + len !== end) return null;
  const frame = new FrameCtor();
  if (id !== 0) frame.id = id;
  if (tag === TAG_SEND) {
    const send = readSend(buf, end);
    if (send === null) return null;
    frame.send = send;
  } else {
    const ack = readAck(buf, end);
    if (ack === null) return null;
    frame.ack = ack;
  }
  return frame;
}

function readSend(buf: Buffer, end: number): ferry.v1.Send | null {
  const send = new SendCtor();
  let last = 0;
  while (pos < end) {
    const tag = buf[pos++]!;
    const field = tag >>> 3;
    if (field <= last || field > 5) return null;
    last = field;
    const wire = tag & 7;
    if (field === 1 || field === 4) {
      if (wire !== 2) return null;
      const s = asciiString(buf, end);
      if (s === null) return null;
      if (s.length > 0) {
        if (field === 1) send.toUser = s;
        else send.clientMsgId = s;
      }
    } else if (field === 2) {
      if (wire !== 2) return null;
      const n = varint(buf, end);
      if (pos < 0 || pos + n > end) return null;
      if (n > 0) {
        // Owns its memory, as decodeFrame's results do: the read buffer is not pinned by a queue.
        const payload = Buffer.allocUnsafe(n);
        buf.copy(payload, 0, pos, pos + n);
        send.payload = payload;
      }
      pos += n;
    } else {
      // qos (enum, int32) and ephemeral (bool): one-byte varints only.
      if (wire !== 0 || pos >= end) return null;
      const v = buf[pos++]!;
      if (v >= 0x80) return null;
      if (v !== 0) {
        if (field === 3) send.qos = v;
        else send.ephemeral = true;
      }
    }
  }
  return send;
}

function readAck(buf: Buffer, end: number): ferry.v1.Ack | null {
  const ack = new AckCtor();
  if (pos === end) return ack;
  if (buf[pos++] !== 1 << 3) return null;
  const seq = varint(buf, end);
  if (pos !== end) return null; // also -1 when the varint left the fast path
  if (seq !== 0) ack.seq = seq;
  return ack;
}

/** A varint of at most MAX_VARINT_BYTES at `pos`; sets pos to -1 when it is longer or truncated. */
function varint(buf: Buffer, end: number): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    n += (b & 0x7f) * mul;
    if (b < 0x80) return n;
    mul *= 128;
  }
  pos = -1;
  return 0;
}

/** A length-delimited ASCII string at `pos`, or null (non-ASCII text takes the validating decoder). */
function asciiString(buf: Buffer, end: number): string | null {
  const n = varint(buf, end);
  if (pos < 0 || pos + n > end) return null;
  const start = pos;
  for (let i = start; i < start + n; i++) if (buf[i]! >= 0x80) return null;
  pos = start + n;
  return n === 0 ? '' : buf.toString('latin1', start, start + n);
}
