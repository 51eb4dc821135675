/**
 * Wire constants of HTTP/3 (RFC 9114), QPACK (RFC 9204), HTTP Datagrams and Capsules (RFC 9297),
 * Extended CONNECT (RFC 9220) and WebTransport over HTTP/3 (draft-ietf-webtrans-http3, drafts 02..15).
 * Every value cites where it is defined. All values are below 2^53, so they are plain numbers.
 */

// ---------------------------------------------------------------------------------------------
// HTTP/3 frame types (RFC 9114 §7.2, §11.2.1)
// ---------------------------------------------------------------------------------------------

/** RFC 9114 §7.2.1 */
export const FRAME_DATA = 0x00;
/** RFC 9114 §7.2.2 */
export const FRAME_HEADERS = 0x01;
/** RFC 9114 §7.2.3 */
export const FRAME_CANCEL_PUSH = 0x03;
/** RFC 9114 §7.2.4 */
export const FRAME_SETTINGS = 0x04;
/** RFC 9114 §7.2.5 */
export const FRAME_PUSH_PROMISE = 0x05;
/** RFC 9114 §7.2.6 */
export const FRAME_GOAWAY = 0x07;
/** RFC 9114 §7.2.7 */
export const FRAME_MAX_PUSH_ID = 0x0d;
/**
 * draft-ietf-webtrans-http3 §4.2: not a real frame — the signal value that opens a client- or
 * server-initiated WebTransport bidirectional stream, followed by the session id; no length.
 */
export const FRAME_WEBTRANSPORT_STREAM = 0x41;
/**
 * RFC 9114 §7.2.8: frame types from HTTP/2 without an HTTP/3 counterpart (PRIORITY 0x02, PING 0x06,
 * WINDOW_UPDATE 0x08, CONTINUATION 0x09); receipt is a connection error H3_FRAME_UNEXPECTED.
 */
export const RESERVED_HTTP2_FRAME_TYPES: readonly number[] = [0x02, 0x06, 0x08, 0x09];

// ---------------------------------------------------------------------------------------------
// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2, draft-ietf-webtrans-http3 §4.1)
// ---------------------------------------------------------------------------------------------

/** RFC 9114 §6.2.1 */
export const STREAM_CONTROL = 0x00;
/** RFC 9114 §6.2.2 */
export const STREAM_PUSH = 0x01;
/** RFC 9204 §4.2 */
export const STREAM_QPACK_ENCODER = 0x02;
/** RFC 9204 §4.2 */
export const STREAM_QPACK_DECODER = 0x03;
/** draft-ietf-webtrans-http3 §4.1: WebTransport unidirectional stream, followed by the session id. */
export const STREAM_WEBTRANSPORT_UNI = 0x54;

// ---------------------------------------------------------------------------------------------
// SETTINGS identifiers (RFC 9114 §7.2.4.1, §11.2.2 and extensions)
// ---------------------------------------------------------------------------------------------

/** RFC 9204 §5: dynamic table capacity the decoder allows (Ferry: 0). */
export const SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0x01;
/** RFC 9114 §7.2.4.1: largest field section the sender accepts (name + value + 32 per field). */
export const SETTINGS_MAX_FIELD_SECTION_SIZE = 0x06;
/** RFC 9204 §5 */
export const SETTINGS_QPACK_BLOCKED_STREAMS = 0x07;
/** RFC 9220 §3: Extended CONNECT; value 0 or 1. */
export const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x08;
/** RFC 9297 §2.1.1: HTTP Datagrams; value 0 or 1. */
export const SETTINGS_H3_DATAGRAM = 0x33;
/** draft-ietf-masque-h3-datagram-04 §9.1: pre-RFC datagram setting Chromium still sends. */
export const SETTINGS_H3_DATAGRAM_DRAFT04 = 0xffd277;
/** draft-ietf-webtrans-http3-02 (IANA, HTTP/3 settings): SETTINGS_ENABLE_WEBTRANSPORT (Chromium 156 requires it). */
export const SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02 = 0x2b603742;
/** draft-ietf-webtrans-http3-07 (IANA, HTTP/3 settings): SETTINGS_WEBTRANSPORT_MAX_SESSIONS (draft-07 and -08). */
export const SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07 = 0xc671706a;
/** draft-ietf-webtrans-http3-09..14 (IANA, HTTP/3 settings): SETTINGS_WT_MAX_SESSIONS; a value > 1
 * on both sides turns on session flow control (§5.1). */
export const SETTINGS_WT_MAX_SESSIONS = 0x14e9cd29;
/** draft-ietf-webtrans-http3-15 (IANA, HTTP/3 settings): SETTINGS_WT_ENABLED (boolean, replaces WT_MAX_SESSIONS). */
export const SETTINGS_WT_ENABLED = 0x2c7cf000;
/** draft-ietf-webtrans-http3-09+ §5.5: SETTINGS_WT_INITIAL_MAX_DATA (session flow control). */
export const SETTINGS_WT_INITIAL_MAX_DATA = 0x2b61;
/** draft-ietf-webtrans-http3-09+ §5.5: SETTINGS_WT_INITIAL_MAX_STREAMS_UNI. */
export const SETTINGS_WT_INITIAL_MAX_STREAMS_UNI = 0x2b64;
/** draft-ietf-webtrans-http3-09+ §5.5: SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI. */
export const SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI = 0x2b65;
/**
 * RFC 9114 §7.2.4.1, §11.2.2: HTTP/2 setting ids with no HTTP/3 counterpart; receipt is a
 * connection error H3_SETTINGS_ERROR.
 */
export const RESERVED_HTTP2_SETTINGS: readonly number[] = [0x02, 0x03, 0x04, 0x05];

// ---------------------------------------------------------------------------------------------
// HTTP/3 error codes (RFC 9114 §8.1) and QPACK error codes (RFC 9204 §6)
// ---------------------------------------------------------------------------------------------

/** RFC 9114 §8.1 */
export const H3_NO_ERROR = 0x100;
/** RFC 9114 §8.1 */
export const H3_GENERAL_PROTOCOL_ERROR = 0x101;
/** RFC 9114 §8.1 */
export const H3_INTERNAL_ERROR = 0x102;
/** RFC 9114 §8.1 */
export const H3_STREAM_CREATION_ERROR = 0x103;
/** RFC 9114 §8.1 */
export const H3_CLOSED_CRITICAL_STREAM = 0x104;
/** RFC 9114 §8.1 */
export const H3_FRAME_UNEXPECTED = 0x105;
/** RFC 9114 §8.1 */
export const H3_FRAME_ERROR = 0x106;
/** RFC 9114 §8.1 */
export const H3_EXCESSIVE_LOAD = 0x107;
/** RFC 9114 §8.1 */
export const H3_ID_ERROR = 0x108;
/** RFC 9114 §8.1 */
export const H3_SETTINGS_ERROR = 0x109;
/** RFC 9114 §8.1 */
export const H3_MISSING_SETTINGS = 0x10a;
/** RFC 9114 §8.1 */
export const H3_REQUEST_REJECTED = 0x10b;
/** RFC 9114 §8.1 */
export const H3_REQUEST_CANCELLED = 0x10c;
/** RFC 9114 §8.1 */
export const H3_REQUEST_INCOMPLETE = 0x10d;
/** RFC 9114 §8.1 */
export const H3_MESSAGE_ERROR = 0x10e;
/** RFC 9114 §8.1 (Chromium resets WebTransport streams with it after a session close). */
export const H3_CONNECT_ERROR = 0x10f;
/** RFC 9114 §8.1 */
export const H3_VERSION_FALLBACK = 0x110;
/** RFC 9204 §6 */
export const QPACK_DECOMPRESSION_FAILED = 0x200;
/** RFC 9204 §6 */
export const QPACK_ENCODER_STREAM_ERROR = 0x201;
/** RFC 9204 §6 */
export const QPACK_DECODER_STREAM_ERROR = 0x202;
/** RFC 9297 §5.2: malformed datagram or datagram-related protocol violation. */
export const H3_DATAGRAM_ERROR = 0x33;

// ---------------------------------------------------------------------------------------------
// WebTransport error codes (draft-ietf-webtrans-http3, IANA HTTP/3 error codes)
// ---------------------------------------------------------------------------------------------

/** draft-ietf-webtrans-http3 §4.5: too many streams buffered waiting for their session. */
export const WT_BUFFERED_STREAM_REJECTED = 0x3994bd84;
/** draft-ietf-webtrans-http3 §6: the stream's session has terminated. */
export const WT_SESSION_GONE = 0x170d7b68;
/** draft-ietf-webtrans-http3 §4.3: first HTTP/3 code of the application error range (n = 0). */
export const WT_APPLICATION_ERROR_FIRST = 0x52e4a40fa8db;
/** draft-ietf-webtrans-http3 §4.3: last HTTP/3 code of the application error range (n = 2^32-1). */
export const WT_APPLICATION_ERROR_LAST = 0x52e5ac983162;

// ---------------------------------------------------------------------------------------------
// Capsule types (RFC 9297 §3.2, draft-ietf-webtrans-http3 §4.6 and §6)
// ---------------------------------------------------------------------------------------------

/** RFC 9297 §3.5: DATAGRAM capsule. */
export const CAPSULE_DATAGRAM = 0x00;
/** draft-ietf-webtrans-http3 §6: CLOSE_WEBTRANSPORT_SESSION (u32 code + UTF-8 reason). */
export const CAPSULE_CLOSE_WEBTRANSPORT_SESSION = 0x2843;
/** draft-ietf-webtrans-http3 §4.6: DRAIN_WEBTRANSPORT_SESSION (Length 0). */
export const CAPSULE_DRAIN_WEBTRANSPORT_SESSION = 0x78ae;
/** draft-ietf-webtrans-http3 §6: longest Application Error Message in a close capsule, in bytes. */
export const WT_CLOSE_REASON_MAX_BYTES = 1024;

// ---------------------------------------------------------------------------------------------
// Extended CONNECT tokens (RFC 9220 §3, draft-ietf-webtrans-http3 §3.2)
// ---------------------------------------------------------------------------------------------

/** ':protocol' token of draft-02 .. draft-06 (Chromium 156). */
export const WEBTRANSPORT_PROTOCOL_DRAFT02 = 'webtransport';
/** ':protocol' token of draft-07 and later. */
export const WEBTRANSPORT_PROTOCOL = 'webtransport-h3';

// ---------------------------------------------------------------------------------------------
// Varint bounds (RFC 9000 §16) and QPACK
// ---------------------------------------------------------------------------------------------

/** RFC 9000 §16: largest value a variable-length integer can carry, 2^62-1 (bigint: exceeds 2^53). */
export const VARINT_MAX = (1n << 62n) - 1n;
/** RFC 9114 §4.2.2: per-field overhead counted against SETTINGS_MAX_FIELD_SECTION_SIZE. */
export const FIELD_LINE_OVERHEAD = 32;

/**
 * RFC 9114 §7.2.8, §7.2.4.1, §6.2.3, §8.1 / RFC 9297 §5.4: reserved ("GREASE") values are
 * `0x1f * N + 0x21`. Exact for values up to 2^53-1; larger numbers (inexact by then) count as not
 * reserved, which is harmless because callers ignore unknown values either way.
 */
export function isReservedGrease(value: number): boolean {
  return value >= 0x21 && value <= Number.MAX_SAFE_INTEGER && (value - 0x21) % 0x1f === 0;
}

/**
 * A GREASE value `0x1f * n + 0x21` for sending (RFC 9114 §7.2.4.1); `n` is truncated to an integer
 * in [0, 2^32) so the result stays an exact number.
 */
export function greaseValue(n: number): number {
  return 0x1f * (Math.trunc(Math.abs(n)) % 0x1_0000_0000) + 0x21;
}

/**
 * draft-ietf-webtrans-http3 §4.3: maps a WebTransport application error code (u32) to the HTTP/3
 * error code carried by RESET_STREAM / STOP_SENDING, skipping reserved code points.
 */
export function webTransportCodeToHttp3(code: number): number {
  const n = Math.trunc(code) >>> 0; // u32
  return WT_APPLICATION_ERROR_FIRST + n + Math.floor(n / 0x1e);
}

/**
 * Inverse of {@link webTransportCodeToHttp3}: the u32 application code, or `undefined` when the
 * HTTP/3 code is outside the WebTransport range or a reserved (GREASE) code point.
 */
export function http3CodeToWebTransport(h3: number): number | undefined {
  if (!(h3 >= WT_APPLICATION_ERROR_FIRST && h3 <= WT_APPLICATION_ERROR_LAST)) return undefined;
  if (isReservedGrease(h3)) return undefined;
  const shifted = h3 - WT_APPLICATION_ERROR_FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}
