/**
 * A minimal, allocation-light encoder/decoder for the few Ferry frames the benchmarks need, written
 * from docs/protocol.md §4 ("encoding frames by hand") rather than imported from src/: the load
 * generator must cost as little CPU as possible (it shares the machine with the server under test),
 * and the baseline server must share no code path with Ferry. bench/check-frames.ts cross-checks these
 * bytes against Ferry's protobufjs codec.
 */

/** Frame body field numbers (docs/protocol.md §3.2). */
export const BODY = {
  authenticate: 10,
  authResult: 11,
  send: 12,
  sendAck: 13,
  deliver: 14,
  ack: 15,
  ping: 16,
  pong: 17,
  subscribe: 18,
  unsubscribe: 19,
  publish: 20,
  reply: 23,
  error: 24,
  disconnect: 25,
} as const;

/** Bytes needed for `n` as a varint (n < 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` (0 <= n < 2^53) as a varint at `off`; returns the offset after it. */
export function writeVarint(buf: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/** Size of a LEN field (tag of `tagSize` bytes + length varint + content). */
function lenFieldSize(tagSize: number, contentLength: number): number {
  return tagSize + varintSize(contentLength) + contentLength;
}

/** Body tag bytes: one byte up to field 15, two bytes from 16 on. */
function writeBodyTag(buf: Buffer, off: number, field: number): number {
  return writeVarint(buf, off, (field << 3) | 2);
}

function bodyTagSize(field: number): number {
  return varintSize((field << 3) | 2);
}

/**
 * Wraps a body of `bodyLength` bytes into a Frame; returns the buffer and the offset where the body
 * content goes. With `prefixed`, a u32-BE length prefix (stream transports, §2.1) is written first.
 */
function frameShell(id: number, field: number, bodyLength: number, prefixed: boolean): [Buffer, number] {
  const idSize = id !== 0 ? 1 + varintSize(id) : 0;
  const frameLength = idSize + lenFieldSize(bodyTagSize(field), bodyLength);
  const pre = prefixed ? 4 : 0;
  const buf = Buffer.allocUnsafe(pre + frameLength);
  if (prefixed) buf.writeUInt32BE(frameLength, 0);
  let off = pre;
  if (id !== 0) {
    buf[off++] = 0x08;
    off = writeVarint(buf, off, id);
  }
  off = writeBodyTag(buf, off, field);
  off = writeVarint(buf, off, bodyLength);
  return [buf, off];
}

function writeBytesField(buf: Buffer, off: number, tag: number, bytes: Uint8Array): number {
  buf[off++] = tag;
  off = writeVarint(buf, off, bytes.length);
  buf.set(bytes, off);
  return off + bytes.length;
}

function writeVarintField(buf: Buffer, off: number, tag: number, n: number): number {
  buf[off++] = tag;
  return writeVarint(buf, off, n);
}

/** Frame { id, authenticate { token, device_id, client } }. */
export function encodeAuthenticate(id: number, token: string, prefixed: boolean, deviceId = ''): Buffer {
  const t = Buffer.from(token);
  const d = Buffer.from(deviceId);
  const c = Buffer.from('ferry-bench/1');
  const bodyLength =
    lenFieldSize(1, t.length) + (d.length > 0 ? lenFieldSize(1, d.length) : 0) + lenFieldSize(1, c.length);
  const [buf, start] = frameShell(id, BODY.authenticate, bodyLength, prefixed);
  let off = writeBytesField(buf, start, 0x0a, t);
  if (d.length > 0) off = writeBytesField(buf, off, 0x12, d);
  writeBytesField(buf, off, 0x22, c);
  return buf;
}

/**
 * A reusable Send encoder for one sender→recipient pair: the recipient and sizes are fixed, so each
 * message costs one allocation plus the payload bytes the caller writes into the returned view.
 */
export class SendEncoder {
  private readonly toUser: Buffer;

  constructor(
    toUser: string,
    private readonly payloadLength: number,
    private readonly qos: 0 | 1,
    private readonly prefixed: boolean,
  ) {
    this.toUser = Buffer.from(toUser);
  }

  /**
   * Encodes Frame { id, send { to_user, payload, qos, client_msg_id } }; returns the frame and the
   * offset of the payload inside it (the caller fills `payloadLength` bytes from there).
   */
  encode(id: number, clientMsgId: string): [Buffer, number] {
    const cmidLength = clientMsgId.length; // ASCII only (the bench writes digits)
    let bodyLength = lenFieldSize(1, this.toUser.length) + lenFieldSize(1, this.payloadLength);
    if (this.qos !== 0) bodyLength += 2;
    if (cmidLength > 0) bodyLength += lenFieldSize(1, cmidLength);
    const [buf, start] = frameShell(id, BODY.send, bodyLength, this.prefixed);
    let off = writeBytesField(buf, start, 0x0a, this.toUser);
    buf[off++] = 0x12;
    off = writeVarint(buf, off, this.payloadLength);
    const payloadAt = off;
    off += this.payloadLength;
    if (this.qos !== 0) off = writeVarintField(buf, off, 0x18, this.qos);
    if (cmidLength > 0) {
      buf[off++] = 0x22;
      off = writeVarint(buf, off, cmidLength);
      buf.write(clientMsgId, off, 'latin1');
    }
    return [buf, payloadAt];
  }
}

/** Frame { ack { seq } } (cumulative acknowledgement of QoS-1 user deliveries). */
export function encodeAck(seq: number, prefixed: boolean): Buffer {
  const [buf, start] = frameShell(0, BODY.ack, 1 + varintSize(seq), prefixed);
  writeVarintField(buf, start, 0x08, seq);
  return buf;
}

/** Frame { id, pong { timestamp_ms } } answering a server Ping. */
export function encodePong(id: number, timestampMs: number, prefixed: boolean): Buffer {
  const ts = timestampMs > 0 ? 1 + varintSize(timestampMs) : 0;
  const [buf, start] = frameShell(id, BODY.pong, ts, prefixed);
  if (ts > 0) writeVarintField(buf, start, 0x08, timestampMs);
  return buf;
}

/**
 * Frame { id, <body field> { <body bytes> } }: any body the caller has encoded itself (the flood
 * scenario's frames, bench/flood.ts).
 */
export function encodeBodyFrame(id: number, field: number, body: Uint8Array, prefixed: boolean): Buffer {
  const [buf, start] = frameShell(id, field, body.length, prefixed);
  buf.set(body, start);
  return buf;
}

/**
 * Frame { id, ping { timestamp_ms } }, optionally padded with an unknown LEN field (field 15) of
 * `padding` bytes inside the body: the server skips unknown fields, so this is a valid Ping of any size.
 */
export function encodePing(id: number, timestampMs: number, prefixed: boolean, padding = 0): Buffer {
  const ts = 1 + varintSize(timestampMs);
  const pad = padding > 0 ? lenFieldSize(1, padding) : 0;
  const [buf, start] = frameShell(id, BODY.ping, ts + pad, prefixed);
  let off = writeVarintField(buf, start, 0x08, timestampMs);
  if (padding > 0) {
    buf[off++] = 0x7a; // field 15, LEN
    off = writeVarint(buf, off, padding);
    buf.fill(0x70, off, off + padding);
  }
  return buf;
}

/** A body of LEN fields (field number -> UTF-8 string or bytes) and VARINT fields, in the order given. */
export function encodeFields(fields: [field: number, value: string | Uint8Array | number][]): Buffer {
  let size = 0;
  const parts = fields.map(([field, value]) => {
    if (typeof value === 'number') {
      size += 1 + varintSize(value);
      return { tag: field << 3, value };
    }
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    size += lenFieldSize(1, bytes.length);
    return { tag: (field << 3) | 2, value: bytes };
  });
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const p of parts) {
    off =
      typeof p.value === 'number'
        ? writeVarintField(buf, off, p.tag, p.value)
        : writeBytesField(buf, off, p.tag, p.value);
  }
  return buf;
}

/** Frame { id, auth_result { user_id } }: the baseline server's minimal auth answer. */
export function encodeAuthResult(id: number, userId: Buffer, prefixed: boolean): Buffer {
  const [buf, start] = frameShell(id, BODY.authResult, lenFieldSize(1, userId.length), prefixed);
  writeBytesField(buf, start, 0x0a, userId);
  return buf;
}

/** Frame { id, send_ack { timestamp_ms } }: the baseline server's answer to a QoS-0 Send. */
export function encodeSendAck(id: number, timestampMs: number, prefixed: boolean): Buffer {
  const [buf, start] = frameShell(id, BODY.sendAck, 1 + varintSize(timestampMs), prefixed);
  writeVarintField(buf, start, 0x20, timestampMs);
  return buf;
}

/**
 * Frame { deliver { from_user, payload, timestamp_ms } } with the payload copied from `src`
 * [`payloadStart`, `payloadEnd`): the baseline server's forward.
 */
export function encodeDeliver(
  fromUser: Buffer,
  src: Buffer,
  payloadStart: number,
  payloadEnd: number,
  timestampMs: number,
  prefixed: boolean,
): Buffer {
  const payloadLength = payloadEnd - payloadStart;
  const bodyLength =
    lenFieldSize(1, fromUser.length) + lenFieldSize(1, payloadLength) + 1 + varintSize(timestampMs);
  const [buf, start] = frameShell(0, BODY.deliver, bodyLength, prefixed);
  let off = writeBytesField(buf, start, 0x1a, fromUser);
  buf[off++] = 0x32;
  off = writeVarint(buf, off, payloadLength);
  src.copy(buf, off, payloadStart, payloadEnd);
  off += payloadLength;
  writeVarintField(buf, off, 0x38, timestampMs);
  return buf;
}

/** Frame { disconnect { code, reason } }. */
export function encodeDisconnect(code: number, reason: string, prefixed: boolean): Buffer {
  const r = Buffer.from(reason);
  const [buf, start] = frameShell(
    0,
    BODY.disconnect,
    1 + varintSize(code) + lenFieldSize(1, r.length),
    prefixed,
  );
  const off = writeVarintField(buf, start, 0x08, code);
  writeBytesField(buf, off, 0x12, r);
  return buf;
}

/**
 * A cursor over protobuf fields of `buf[start, end)`. Reused across frames (no allocation per field);
 * throws RangeError on malformed input.
 */
export class FieldReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  /** The current field's number and wire type (after `next()`). */
  field = 0;
  wireType = 0;
  /** VARINT value, or [lenStart, lenEnd) for a LEN field. */
  value = 0;
  lenStart = 0;
  lenEnd = 0;

  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Advances to the next field; false at the end. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wireType = tag & 7;
    switch (this.wireType) {
      case 0:
        this.value = this.varint();
        break;
      case 2: {
        const length = this.varint();
        this.lenStart = this.pos;
        this.lenEnd = this.pos + length;
        if (this.lenEnd > this.end) throw new RangeError('LEN field overruns its message');
        this.pos = this.lenEnd;
        break;
      }
      case 1:
        this.pos += 8;
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`wire type ${this.wireType} not supported`);
    }
    return true;
  }

  /** Reads a varint up to 2^53 exactly (larger values lose precision; the bench never sees them). */
  private varint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }
}

/** The envelope of one decoded frame: its id and the [start, end) of its body. */
export interface FrameView {
  id: number;
  body: number;
  start: number;
  end: number;
}

/**
 * Reads the top level of a Frame: fills `out` with its id and the last body field present (0 when
 * there is none). The body bytes are not copied.
 */
export function readFrame(
  reader: FieldReader,
  buf: Buffer,
  start: number,
  end: number,
  out: FrameView,
): FrameView {
  out.id = 0;
  out.body = 0;
  out.start = 0;
  out.end = 0;
  reader.reset(buf, start, end);
  while (reader.next()) {
    if (reader.field === 1 && reader.wireType === 0) out.id = reader.value;
    else if (reader.wireType === 2 && reader.field >= 10 && reader.field <= 25) {
      out.body = reader.field;
      out.start = reader.lenStart;
      out.end = reader.lenEnd;
    }
  }
  return out;
}

/**
 * Splits a byte stream of u32-BE length-prefixed frames (§2.1) and calls `onFrame(buf, start, end)`
 * for each; `buf` is only valid during the call.
 */
export class PrefixedReader {
  private pending: Buffer | null = null;

  constructor(private readonly maxFrameBytes = 16 * 1024 * 1024) {}

  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const length = buf.readUInt32BE(off);
      if (length > this.maxFrameBytes) throw new RangeError(`frame length ${length} over the limit`);
      if (buf.length - off - 4 < length) break;
      onFrame(buf, off + 4, off + 4 + length);
      off += 4 + length;
    }
    if (off < buf.length) this.pending = buf.subarray(off);
  }
}

/** The two Deliver fields a load generator reads: `seq` (0 for QoS 0) and where the payload starts. */
export interface DeliverFields {
  seq: number;
  /** -1 when the Deliver carries no payload. */
  payloadStart: number;
}

/** Reads a Deliver body (`view` from `readFrame`) into `into` without allocating. */
export function readDeliver(
  reader: FieldReader,
  buf: Buffer,
  view: FrameView,
  into: DeliverFields,
): DeliverFields {
  into.seq = 0;
  into.payloadStart = -1;
  const r = reader.reset(buf, view.start, view.end);
  while (r.next()) {
    if (r.field === 6 && r.wireType === 2) into.payloadStart = r.lenStart;
    else if (r.field === 2 && r.wireType === 0) into.seq = r.value;
  }
  return into;
}

/** Where a load generator counts the Error and Disconnect frames it receives, by code. */
export interface ControlTally {
  errors: Record<string, number>;
  closes: Record<string, number>;
}

/**
 * The frames every load-generator client answers the same way: Ping gets a Pong on `conn`, Error and
 * Disconnect are counted by code in `tally`. Returns false for any other body.
 */
/** An Error frame's `retry_after_ms` when it is retryable, else 0. */
export function readRetryAfter(reader: FieldReader, buf: Buffer, view: FrameView): number {
  let retryable = false;
  let after = 0;
  const r = reader.reset(buf, view.start, view.end);
  while (r.next()) {
    if (r.field === 3 && r.wireType === 0) retryable = r.value !== 0;
    else if (r.field === 4 && r.wireType === 0) after = r.value;
  }
  return retryable ? after : 0;
}

export function handleControlFrame(
  reader: FieldReader,
  buf: Buffer,
  view: FrameView,
  conn: { send(frame: Buffer): void; readonly prefixed: boolean } | null,
  tally: ControlTally,
): boolean {
  switch (view.body) {
    case BODY.ping: {
      let ts = 0;
      const r = reader.reset(buf, view.start, view.end);
      while (r.next()) if (r.field === 1 && r.wireType === 0) ts = r.value;
      conn?.send(encodePong(view.id, ts, conn.prefixed));
      return true;
    }
    case BODY.error:
    case BODY.disconnect: {
      let code = 0;
      const r = reader.reset(buf, view.start, view.end);
      while (r.next()) if (r.field === 1 && r.wireType === 0) code = r.value;
      const bucket = view.body === BODY.error ? tally.errors : tally.closes;
      const key = view.body === BODY.error ? String(code) : `disconnect ${code}`;
      bucket[key] = (bucket[key] ?? 0) + 1;
      return true;
    }
    default:
      return false;
  }
}
