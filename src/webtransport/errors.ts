/**
 * The one error type the sans-IO codecs of src/webtransport/ throw. Decoders never throw anything
 * else (no RangeError/TypeError escapes them), so the engine can catch in one place and close the
 * connection (or reset the stream) with `code`.
 */
import {
  H3_DATAGRAM_ERROR,
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_INTERNAL_ERROR,
  H3_MESSAGE_ERROR,
  H3_SETTINGS_ERROR,
  QPACK_DECOMPRESSION_FAILED,
} from './constants.js';

/**
 * Whether the error ends the whole HTTP/3 connection (CONNECTION_CLOSE with `code`, RFC 9114 §8)
 * or only one request/WebTransport stream (RESET_STREAM / STOP_SENDING with `code`).
 */
export type H3ErrorScope = 'connection' | 'stream';

/**
 * A protocol violation (or an exceeded local limit) detected while decoding HTTP/3, QPACK,
 * capsules or datagrams. `code` is an HTTP/3 (RFC 9114 §8.1) or QPACK (RFC 9204 §6) error code.
 * `scope` is the codec's recommendation from the RFC; the engine may widen it (a stream error on
 * the control stream is always a connection error, RFC 9114 §6.2.1).
 */
export class H3Error extends Error {
  override readonly name = 'H3Error';
  readonly code: number;
  readonly scope: H3ErrorScope;

  constructor(code: number, message: string, scope: H3ErrorScope = 'connection') {
    super(message);
    this.code = code;
    this.scope = scope;
  }
}

/** RFC 9114 §7.1: malformed frame (bad length, truncated payload, stream ended mid-frame). */
export function frameError(message: string): H3Error {
  return new H3Error(H3_FRAME_ERROR, message);
}

/** RFC 9114 §7.2.4: malformed or forbidden SETTINGS. */
export function settingsError(message: string): H3Error {
  return new H3Error(H3_SETTINGS_ERROR, message);
}

/** RFC 9114 §8.1: the peer exceeded a local limit (frame size, header size, header count). */
export function excessiveLoad(message: string, scope: H3ErrorScope = 'connection'): H3Error {
  return new H3Error(H3_EXCESSIVE_LOAD, message, scope);
}

/** RFC 9114 §4.1.2: malformed message, e.g. a bad capsule on a CONNECT stream (a stream error). */
export function messageError(message: string): H3Error {
  return new H3Error(H3_MESSAGE_ERROR, message, 'stream');
}

/** RFC 9204 §2.2.3: the field section cannot be decoded (a connection error). */
export function decompressionFailed(message: string): H3Error {
  return new H3Error(QPACK_DECOMPRESSION_FAILED, message);
}

/** RFC 9297 §2.1: malformed HTTP Datagram. */
export function datagramError(message: string): H3Error {
  return new H3Error(H3_DATAGRAM_ERROR, message);
}

/** A value our own encoder cannot put on the wire (a bug of the caller, not of the peer). */
export function internalError(message: string): H3Error {
  return new H3Error(H3_INTERNAL_ERROR, message);
}
