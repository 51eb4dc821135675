/**
 * The Capsule Protocol (RFC 9297 §3) on a WebTransport CONNECT stream, and the HTTP Datagram
 * header (RFC 9297 §2.1). Capsules travel in the payload of DATA frames and may span them: feed
 * {@link CapsuleReader} every slice the frame reader's `onData` yields.
 */
import {
  CAPSULE_CLOSE_WEBTRANSPORT_SESSION,
  CAPSULE_DATAGRAM,
  CAPSULE_DRAIN_WEBTRANSPORT_SESSION,
  WT_CLOSE_REASON_MAX_BYTES,
} from './constants.js';
import { datagramError, internalError, messageError } from './errors.js';
import { VarintAccumulator, readVarint, varintLength, varintSize, writeVarint } from './varint.js';

/** Receives capsules of known types; the value is a view valid only during the call. */
export interface CapsuleHandler {
  onCapsule(type: number, value: Uint8Array): void;
}

/** Options of {@link CapsuleReader}. */
export interface CapsuleReaderOptions {
  /** Largest DATAGRAM capsule value kept (larger: H3_MESSAGE_ERROR). Default 65536. */
  maxDatagramCapsule?: number;
}

/** A decoded CLOSE_WEBTRANSPORT_SESSION capsule. */
export interface CloseSessionInfo {
  /** Application error code, u32. */
  code: number;
  /** UTF-8 reason, at most 1024 bytes on the wire. */
  reason: string;
}

const S_TYPE = 0;
const S_LENGTH = 1;
const S_VALUE = 2;
const S_SKIP = 3;
const S_CLOSED = 4; // after CLOSE_WEBTRANSPORT_SESSION: nothing more may arrive
const S_FAILED = 5;

const EMPTY = new Uint8Array(0);

/**
 * Incremental capsule parser (RFC 9297 §3.2: type varint, length varint, value) for the data of one
 * CONNECT stream. Known types (CLOSE_WEBTRANSPORT_SESSION, DRAIN_WEBTRANSPORT_SESSION, DATAGRAM)
 * are delivered whole; every other type — Chromium's GREASE capsule, the draft-09+ flow-control
 * capsules — is skipped without buffering (RFC 9297 §3.2: unknown types MUST be ignored).
 * Throws only H3Error with H3_MESSAGE_ERROR (a stream error: reset the CONNECT stream): a known
 * capsule of impossible size, data after CLOSE (draft-ietf-webtrans-http3 §6), or — via
 * {@link finish} — a stream ending inside a capsule (RFC 9297 §3.3).
 */
export class CapsuleReader {
  private state = S_TYPE;
  private type = 0;
  private remaining = 0;
  private value: Uint8Array = EMPTY;
  private filled = 0;
  private readonly varint = new VarintAccumulator();
  private readonly maxDatagramCapsule: number;

  constructor(
    private readonly handler: CapsuleHandler,
    options: CapsuleReaderOptions = {},
  ) {
    this.maxDatagramCapsule = options.maxDatagramCapsule ?? 65536;
  }

  /** True once a CLOSE_WEBTRANSPORT_SESSION capsule has been delivered. */
  get closed(): boolean {
    return this.state === S_CLOSED;
  }

  /** Parses `chunk` (a slice of DATA frame payload). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.state === S_CLOSED) {
      this.state = S_FAILED;
      throw messageError('data after CLOSE_WEBTRANSPORT_SESSION');
    }
    if (this.state === S_FAILED) throw messageError('capsule reader used after an error');
    let state = this.state;
    this.state = S_FAILED;
    let off = 0;
    while (off < chunk.length) {
      if (state === S_CLOSED) throw messageError('data after CLOSE_WEBTRANSPORT_SESSION');
      if (state === S_TYPE || state === S_LENGTH) {
        off = this.varint.take(chunk, off);
        const v = this.varint.value;
        if (v < 0) break;
        if (state === S_TYPE) {
          this.type = v;
          state = S_LENGTH;
          continue;
        }
        this.remaining = v;
        state = this.startValue(v);
        if (state === S_VALUE && off + v <= chunk.length) {
          state = this.deliver(chunk.subarray(off, off + v));
          off += v;
        } else if (state === S_VALUE) {
          this.value = new Uint8Array(v);
          this.filled = 0;
        } else if (state === S_TYPE && v === 0 && this.isKnown(this.type)) {
          state = this.deliver(EMPTY);
        }
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      if (state === S_VALUE) {
        this.value.set(chunk.subarray(off, off + n), this.filled);
        this.filled += n;
      }
      off += n;
      this.remaining -= n;
      if (this.remaining === 0) {
        if (state === S_VALUE) {
          const value = this.value;
          this.value = EMPTY;
          state = this.deliver(value);
        } else {
          state = S_TYPE;
        }
      }
    }
    this.state = state;
  }

  /** The CONNECT stream's data ended (FIN). Throws H3_MESSAGE_ERROR inside a capsule (RFC 9297 §3.3). */
  finish(): void {
    if (this.state === S_CLOSED) return;
    if (this.state !== S_TYPE || this.varint.pending) {
      this.state = S_FAILED;
      throw messageError('CONNECT stream ended inside a capsule');
    }
  }

  private isKnown(type: number): boolean {
    return (
      type === CAPSULE_CLOSE_WEBTRANSPORT_SESSION ||
      type === CAPSULE_DRAIN_WEBTRANSPORT_SESSION ||
      type === CAPSULE_DATAGRAM
    );
  }

  private startValue(length: number): number {
    const type = this.type;
    if (!this.isKnown(type)) return length === 0 ? S_TYPE : S_SKIP;
    // draft-ietf-webtrans-http3 §6: u32 code + at most 1024 bytes of reason.
    if (
      type === CAPSULE_CLOSE_WEBTRANSPORT_SESSION &&
      (length < 4 || length > 4 + WT_CLOSE_REASON_MAX_BYTES)
    ) {
      throw messageError(`CLOSE_WEBTRANSPORT_SESSION capsule of ${length} bytes`);
    }
    // draft-ietf-webtrans-http3 §4.6: DRAIN_WEBTRANSPORT_SESSION has Length 0.
    if (type === CAPSULE_DRAIN_WEBTRANSPORT_SESSION && length !== 0) {
      throw messageError('DRAIN_WEBTRANSPORT_SESSION capsule with a value');
    }
    if (type === CAPSULE_DATAGRAM && length > this.maxDatagramCapsule) {
      throw messageError(`DATAGRAM capsule of ${length} bytes`);
    }
    return length === 0 ? S_TYPE : S_VALUE;
  }

  private deliver(value: Uint8Array): number {
    const type = this.type;
    this.handler.onCapsule(type, value);
    return type === CAPSULE_CLOSE_WEBTRANSPORT_SESSION ? S_CLOSED : S_TYPE;
  }
}

// ---------------------------------------------------------------------------------------------
// Capsule values and writers
// ---------------------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder('utf-8'); // not fatal: a bad reason is shown, not rejected
const utf8Encoder = new TextEncoder();

/**
 * Decodes a CLOSE_WEBTRANSPORT_SESSION value (draft-ietf-webtrans-http3 §6): u32 code + UTF-8
 * reason. Throws H3_MESSAGE_ERROR if shorter than 4 bytes or the reason exceeds 1024 bytes;
 * invalid UTF-8 is replaced (U+FFFD), not rejected, as the reason is informational.
 */
export function decodeCloseSession(value: Uint8Array): CloseSessionInfo {
  if (value.length < 4 || value.length > 4 + WT_CLOSE_REASON_MAX_BYTES) {
    throw messageError(`CLOSE_WEBTRANSPORT_SESSION value of ${value.length} bytes`);
  }
  const code = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
  return { code, reason: utf8Decoder.decode(value.subarray(4)) };
}

/** Encodes any capsule: type varint, length varint, value (copied). */
export function encodeCapsule(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(value.length) + value.length);
  out.set(value, writeVarint(out, writeVarint(out, 0, type), value.length));
  return out;
}

/** UTF-8 bytes of `reason`, cut at a character boundary to at most `max` bytes. */
export function truncateUtf8(reason: string, max = WT_CLOSE_REASON_MAX_BYTES): Uint8Array {
  const bytes = utf8Encoder.encode(reason);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return bytes.subarray(0, end);
}

/**
 * CLOSE_WEBTRANSPORT_SESSION capsule (draft-ietf-webtrans-http3 §6); `code` is taken as u32 and a
 * reason longer than 1024 UTF-8 bytes is truncated at a character boundary. Send it inside a DATA
 * frame, then FIN the CONNECT stream.
 */
export function encodeCloseSessionCapsule(code: number, reason: string): Uint8Array {
  const text = truncateUtf8(reason);
  const value = new Uint8Array(4 + text.length);
  const c = Math.trunc(code) >>> 0;
  value[0] = c >>> 24;
  value[1] = (c >>> 16) & 0xff;
  value[2] = (c >>> 8) & 0xff;
  value[3] = c & 0xff;
  value.set(text, 4);
  return encodeCapsule(CAPSULE_CLOSE_WEBTRANSPORT_SESSION, value);
}

/** DRAIN_WEBTRANSPORT_SESSION capsule (draft-ietf-webtrans-http3 §4.6): `80 00 78 ae 00`. */
export function encodeDrainSessionCapsule(): Uint8Array {
  return encodeCapsule(CAPSULE_DRAIN_WEBTRANSPORT_SESSION, EMPTY);
}

// ---------------------------------------------------------------------------------------------
// HTTP Datagrams (RFC 9297 §2.1): Quarter Stream ID varint + payload
// ---------------------------------------------------------------------------------------------

/** RFC 9297 §2.1: largest valid Quarter Stream ID, 2^60-1 (as a number: inexact; checked as > 2^53). */
const MAX_QUARTER_STREAM_ID = Number.MAX_SAFE_INTEGER;

/**
 * Session id (CONNECT stream id = 4 × Quarter Stream ID) of a received QUIC DATAGRAM payload; the
 * WebTransport payload starts at `datagramHeaderLength(buf)`, take it with `subarray` (no copy).
 * Throws H3Error H3_DATAGRAM_ERROR if the datagram is empty or truncated inside the varint
 * (RFC 9297 §2.1), or the id is too large to be a stream we could know.
 */
export function readDatagramSessionId(buf: Uint8Array): number {
  const quarter = readVarint(buf, 0);
  if (quarter < 0) throw datagramError('datagram shorter than its Quarter Stream ID');
  if (quarter > MAX_QUARTER_STREAM_ID / 4) throw datagramError('Quarter Stream ID too large');
  return quarter * 4;
}

/** Bytes the Quarter Stream ID takes at the start of a received datagram (buf must be non-empty). */
export function datagramHeaderLength(buf: Uint8Array): number {
  return buf.length === 0 ? 0 : varintSize(buf[0]!);
}

/** Bytes {@link writeDatagramHeader} writes for `sessionId`. */
export function datagramHeaderSize(sessionId: number): number {
  return varintLength(sessionId / 4);
}

/**
 * Writes the Quarter Stream ID for `sessionId` (a client-initiated bidi stream id, multiple of 4)
 * at `offset`; returns the offset where the payload goes. Lets the engine build a datagram in one
 * buffer without copying the payload twice.
 */
export function writeDatagramHeader(buf: Uint8Array, offset: number, sessionId: number): number {
  if (sessionId % 4 !== 0) throw internalError(`session id ${sessionId} is not a client bidi stream id`);
  return writeVarint(buf, offset, sessionId / 4);
}

/** A whole datagram: Quarter Stream ID + copy of `payload`. */
export function encodeDatagram(sessionId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(datagramHeaderSize(sessionId) + payload.length);
  out.set(payload, writeDatagramHeader(out, 0, sessionId));
  return out;
}
