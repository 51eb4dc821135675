/**
 * HTTP/3 frames (RFC 9114 §7.1: type varint, length varint, payload): an incremental reader that
 * accepts arbitrary chunk splits, and writers. Sans-IO: bytes in, callbacks out.
 */
import {
  FRAME_CANCEL_PUSH,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_MAX_PUSH_ID,
  FRAME_PUSH_PROMISE,
  FRAME_SETTINGS,
  FRAME_WEBTRANSPORT_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MISSING_SETTINGS,
  RESERVED_HTTP2_FRAME_TYPES,
  STREAM_WEBTRANSPORT_UNI,
} from './constants.js';
import { H3Error, excessiveLoad, frameError } from './errors.js';
import { encodeSettings } from './settings.js';
import { VarintAccumulator, readVarint, varintLength, varintSize, writeVarint } from './varint.js';

/** Receives what an {@link H3FrameReader} parses. Views are valid only during the call: copy to keep. */
export interface H3FrameHandler {
  /**
   * A complete frame of a known non-DATA type (HEADERS, SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH,
   * PUSH_PROMISE). `payload` is a view into the pushed chunk when the frame arrived whole, else a
   * buffer of exactly the frame's length.
   */
  onFrame(type: number, payload: Uint8Array): void;
  /** A slice of a DATA frame's payload, a view into the pushed chunk (never copied, never empty). */
  onData(chunk: Uint8Array): void;
}

/**
 * Which frames a stream may carry, checked by the reader (RFC 9114 §6.2.1, §7.2):
 * 'control': first frame SETTINGS (else H3_MISSING_SETTINGS), SETTINGS only once, no DATA/HEADERS/
 * PUSH_PROMISE (H3_FRAME_UNEXPECTED); 'request': no SETTINGS/GOAWAY/MAX_PUSH_ID/CANCEL_PUSH
 * (H3_FRAME_UNEXPECTED); 'any': no per-stream checks.
 */
export type H3StreamKind = 'control' | 'request' | 'any';

/** Options of {@link H3FrameReader}. */
export interface H3FrameReaderOptions {
  /** Largest payload of a non-DATA known frame; larger is H3_EXCESSIVE_LOAD. Default 65536. */
  maxFramePayload?: number;
  /** Default 'any'. */
  kind?: H3StreamKind;
}

const S_TYPE = 0;
const S_LENGTH = 1;
const S_PAYLOAD = 2; // buffering a known non-DATA frame that spans chunks
const S_DATA = 3; // streaming a DATA payload
const S_SKIP = 4; // discarding an unknown frame's payload (RFC 9114 §9)
const S_FAILED = 5;

const EMPTY = new Uint8Array(0);

function isKnownNonData(type: number): boolean {
  return (
    type === FRAME_HEADERS ||
    type === FRAME_SETTINGS ||
    type === FRAME_GOAWAY ||
    type === FRAME_MAX_PUSH_ID ||
    type === FRAME_CANCEL_PUSH ||
    type === FRAME_PUSH_PROMISE
  );
}

/**
 * Incremental HTTP/3 frame reader for one stream. Feed every chunk of the stream to {@link push}
 * and call {@link finish} at FIN. DATA payloads are streamed as views (never buffered whole);
 * unknown and reserved (GREASE) frame types are skipped without buffering (RFC 9114 §9); HTTP/2
 * frame types are H3_FRAME_UNEXPECTED (§7.2.8). Throws only H3Error; after a throw (its own or a
 * handler's) the reader is dead and every further call throws.
 */
export class H3FrameReader {
  private state = S_TYPE;
  private type = 0;
  private remaining = 0;
  private payload: Uint8Array = EMPTY;
  private filled = 0;
  private frames = 0;
  private readonly varint = new VarintAccumulator();
  private readonly maxFramePayload: number;
  private readonly kind: H3StreamKind;

  constructor(
    private readonly handler: H3FrameHandler,
    options: H3FrameReaderOptions = {},
  ) {
    this.maxFramePayload = options.maxFramePayload ?? 65536;
    this.kind = options.kind ?? 'any';
  }

  /** True between frames: FIN here is clean. */
  get atFrameBoundary(): boolean {
    return this.state === S_TYPE && !this.varint.pending;
  }

  /** Parses `chunk`, calling the handler for each complete frame / DATA slice. */
  push(chunk: Uint8Array): void {
    if (this.state === S_FAILED) throw frameError('frame reader used after an error');
    const prev = this.state;
    this.state = S_FAILED; // stays so if anything below throws
    let state = prev;
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (state === S_TYPE || state === S_LENGTH) {
        off = this.varint.take(chunk, off);
        const value = this.varint.value;
        if (value < 0) break; // the varint continues in the next chunk
        if (state === S_TYPE) {
          this.type = value;
          this.checkType(this.type);
          state = S_LENGTH;
          continue;
        }
        state = this.startPayload(value);
        if (state === S_PAYLOAD && off + this.remaining <= len) {
          // Whole payload in this chunk: hand out a view, no copy.
          const end = off + this.remaining;
          this.handler.onFrame(this.type, chunk.subarray(off, end));
          off = end;
          state = S_TYPE;
        } else if (state === S_PAYLOAD) {
          this.payload = new Uint8Array(this.remaining);
          this.filled = 0;
        } else if (state === S_TYPE && value === 0 && isKnownNonData(this.type)) {
          this.handler.onFrame(this.type, EMPTY);
        }
        continue;
      }
      const n = Math.min(this.remaining, len - off);
      if (state === S_DATA) {
        this.handler.onData(chunk.subarray(off, off + n));
      } else if (state === S_PAYLOAD) {
        this.payload.set(chunk.subarray(off, off + n), this.filled);
        this.filled += n;
      }
      off += n;
      this.remaining -= n;
      if (this.remaining === 0) {
        if (state === S_PAYLOAD) {
          const payload = this.payload;
          this.payload = EMPTY;
          this.handler.onFrame(this.type, payload);
        }
        state = S_TYPE;
      }
    }
    this.state = state;
  }

  /**
   * The peer finished the stream (FIN). Throws H3_FRAME_ERROR if it ended inside a frame
   * (RFC 9114 §7.1). Whether FIN is allowed at all (never on the control stream) is the engine's call.
   */
  finish(): void {
    if (!this.atFrameBoundary) {
      this.state = S_FAILED;
      throw frameError('stream ended inside a frame');
    }
  }

  private checkType(type: number): void {
    // RFC 9114 §7.2.8: HTTP/2 frame types are connection errors.
    if (RESERVED_HTTP2_FRAME_TYPES.includes(type)) {
      throw new H3Error(H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
    }
    // draft-ietf-webtrans-http3 §4.2: the 0x41 signal is valid only as a stream's first bytes,
    // which the engine strips with parseBidiStreamHeader before using this reader.
    if (type === FRAME_WEBTRANSPORT_STREAM) throw frameError('WEBTRANSPORT_STREAM signal inside a stream');
    const first = this.frames++ === 0;
    if (this.kind === 'control') {
      // RFC 9114 §6.2.1: SETTINGS first and only once; §7.2.1/§7.2.2/§7.2.5: no DATA/HEADERS/PUSH_PROMISE.
      if (first && type !== FRAME_SETTINGS)
        throw new H3Error(H3_MISSING_SETTINGS, 'control stream must start with SETTINGS');
      if (!first && type === FRAME_SETTINGS) throw new H3Error(H3_FRAME_UNEXPECTED, 'second SETTINGS frame');
      if (type === FRAME_DATA || type === FRAME_HEADERS || type === FRAME_PUSH_PROMISE) {
        throw new H3Error(H3_FRAME_UNEXPECTED, `frame 0x${type.toString(16)} on the control stream`);
      }
    } else if (this.kind === 'request') {
      // RFC 9114 §7.2.3, §7.2.4, §7.2.6, §7.2.7: control-stream-only frames.
      if (
        type === FRAME_SETTINGS ||
        type === FRAME_GOAWAY ||
        type === FRAME_MAX_PUSH_ID ||
        type === FRAME_CANCEL_PUSH
      ) {
        throw new H3Error(H3_FRAME_UNEXPECTED, `frame 0x${type.toString(16)} on a request stream`);
      }
    }
  }

  /** After the length: chooses the payload state; sets `remaining`. */
  private startPayload(length: number): number {
    this.remaining = length;
    if (this.type === FRAME_DATA) return length === 0 ? S_TYPE : S_DATA;
    if (isKnownNonData(this.type)) {
      if (length > this.maxFramePayload) {
        throw excessiveLoad(
          `frame 0x${this.type.toString(16)} of ${length} bytes exceeds ${this.maxFramePayload}`,
        );
      }
      return length === 0 ? S_TYPE : S_PAYLOAD;
    }
    return length === 0 ? S_TYPE : S_SKIP;
  }
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

/** Bytes a frame header (type + length varints) takes. */
export function frameHeaderLength(type: number, length: number): number {
  return varintLength(type) + varintLength(length);
}

/** Writes a frame header at `offset`; returns the offset after it (the payload goes there). */
export function writeFrameHeader(buf: Uint8Array, offset: number, type: number, length: number): number {
  return writeVarint(buf, writeVarint(buf, offset, type), length);
}

/** A whole frame (header + copy of `payload`) in one fresh buffer. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(frameHeaderLength(type, payload.length) + payload.length);
  out.set(payload, writeFrameHeader(out, 0, type, payload.length));
  return out;
}

/** RFC 9114 §7.2.1: DATA frame header only; send it followed by the payload, which is not copied. */
export function encodeDataFrameHeader(length: number): Uint8Array {
  const out = new Uint8Array(frameHeaderLength(FRAME_DATA, length));
  writeFrameHeader(out, 0, FRAME_DATA, length);
  return out;
}

/** RFC 9114 §7.2.1: a whole DATA frame (copies; meant for small payloads such as capsules). */
export function encodeDataFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame(FRAME_DATA, payload);
}

/** RFC 9114 §7.2.2: HEADERS frame around a QPACK-encoded field section. */
export function encodeHeadersFrame(fieldSection: Uint8Array): Uint8Array {
  return encodeFrame(FRAME_HEADERS, fieldSection);
}

/** RFC 9114 §7.2.4: SETTINGS frame. */
export function encodeSettingsFrame(settings: Iterable<readonly [number, number]>): Uint8Array {
  return encodeFrame(FRAME_SETTINGS, encodeSettings(settings));
}

/** RFC 9114 §7.2.6: GOAWAY frame; a server sends a client-initiated bidi stream id (§5.2). */
export function encodeGoawayFrame(id: number): Uint8Array {
  const payload = new Uint8Array(varintLength(id));
  writeVarint(payload, 0, id);
  return encodeFrame(FRAME_GOAWAY, payload);
}

/** Decodes a GOAWAY (or MAX_PUSH_ID / CANCEL_PUSH) payload: exactly one varint, else H3_FRAME_ERROR. */
export function decodeSingleVarintPayload(payload: Uint8Array): number {
  const value = readVarint(payload, 0);
  if (value < 0 || varintSize(payload[0]!) !== payload.length) throw frameError('payload must be one varint');
  return value;
}

/** RFC 9114 §6.2.1: opening bytes of our control stream, stream type 0x00 then SETTINGS. */
export function encodeControlStreamPreamble(settings: Iterable<readonly [number, number]>): Uint8Array {
  const frame = encodeSettingsFrame(settings);
  const out = new Uint8Array(1 + frame.length);
  out[0] = 0x00;
  out.set(frame, 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stream headers (preambles)
// ---------------------------------------------------------------------------------------------

/** A parsed stream preamble; `length` bytes of the stream belong to it, the rest is the body. */
export interface StreamHeader {
  /** Uni: the stream type (RFC 9114 §6.2). Bidi: 0x41 for WebTransport, else -1 (a request stream). */
  type: number;
  /** WebTransport session id (the CONNECT stream's id), or -1 when the stream is not WebTransport. */
  sessionId: number;
  /** Bytes of the preamble to strip before handing the rest to the frame reader or the session. */
  length: number;
}

/** Longest preamble: two 8-byte varints. Buffer at most this much while waiting for a header. */
export const MAX_STREAM_HEADER_BYTES = 16;

/** draft-ietf-webtrans-http3 §4.1/§4.2: the session id must be a client-initiated bidi stream id. */
function readSessionId(buf: Uint8Array, off: number): number {
  const id = readVarint(buf, off);
  if (id >= 0 && (id > Number.MAX_SAFE_INTEGER || id % 4 !== 0)) {
    throw new H3Error(H3_ID_ERROR, `invalid WebTransport session id ${id}`, 'stream');
  }
  return id;
}

/**
 * Parses the start of a peer-opened unidirectional stream: its type varint (RFC 9114 §6.2) and,
 * for a WebTransport stream (0x54), the session id. `undefined` until enough bytes arrived (at most
 * {@link MAX_STREAM_HEADER_BYTES}). Unknown types are returned as is: RFC 9114 §6.2 says to abort
 * reading them (STOP_SENDING H3_STREAM_CREATION_ERROR) without closing the connection.
 */
export function parseUniStreamHeader(buf: Uint8Array): StreamHeader | undefined {
  const type = readVarint(buf, 0);
  if (type < 0) return undefined;
  const typeLength = varintSize(buf[0]!);
  if (type !== STREAM_WEBTRANSPORT_UNI) return { type, sessionId: -1, length: typeLength };
  const sessionId = readSessionId(buf, typeLength);
  if (sessionId < 0) return undefined;
  return { type, sessionId, length: typeLength + varintSize(buf[typeLength]!) };
}

/**
 * Parses the start of a peer-opened bidirectional stream: `0x41` + session id marks a WebTransport
 * stream (draft-ietf-webtrans-http3 §4.2); anything else is an HTTP/3 request stream, returned as
 * `{ type: -1, sessionId: -1, length: 0 }` so every byte goes to an {@link H3FrameReader}.
 * `undefined` until enough bytes arrived.
 */
export function parseBidiStreamHeader(buf: Uint8Array): StreamHeader | undefined {
  const type = readVarint(buf, 0);
  if (type < 0) return undefined;
  if (type !== FRAME_WEBTRANSPORT_STREAM) return { type: -1, sessionId: -1, length: 0 };
  const typeLength = varintSize(buf[0]!);
  const sessionId = readSessionId(buf, typeLength);
  if (sessionId < 0) return undefined;
  return { type, sessionId, length: typeLength + varintSize(buf[typeLength]!) };
}

function encodeTwoVarints(a: number, b: number): Uint8Array {
  const out = new Uint8Array(varintLength(a) + varintLength(b));
  writeVarint(out, writeVarint(out, 0, a), b);
  return out;
}

/** RFC 9114 §6.2: a unidirectional stream's type byte(s): control 0x00, QPACK 0x02/0x03. */
export function encodeUniStreamType(type: number): Uint8Array {
  const out = new Uint8Array(varintLength(type));
  writeVarint(out, 0, type);
  return out;
}

/** draft-ietf-webtrans-http3 §4.1: first bytes of a WebTransport uni stream (`40 54` + session id). */
export function encodeWebTransportUniHeader(sessionId: number): Uint8Array {
  return encodeTwoVarints(STREAM_WEBTRANSPORT_UNI, sessionId);
}

/** draft-ietf-webtrans-http3 §4.2: first bytes of a WebTransport bidi stream (`40 41` + session id). */
export function encodeWebTransportBidiHeader(sessionId: number): Uint8Array {
  return encodeTwoVarints(FRAME_WEBTRANSPORT_STREAM, sessionId);
}
