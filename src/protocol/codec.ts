import { ferry } from './generated/frame.js';
import { DisconnectCode, ProtocolError } from '../errors.js';

/** The decoded frame class (protobufjs static code generated from proto/ferry/v1/frame.proto). */
export const Frame = ferry.v1.Frame;
export type Frame = ferry.v1.Frame;
/** Plain-object form accepted by `encodeFrame`. */
export type FrameInit = ferry.v1.IFrame;
export type FrameBody = NonNullable<Frame['body']>;

/** Bytes in the length prefix of a frame on stream transports (u32 big-endian). */
export const LENGTH_PREFIX_BYTES = 4;

/** Encodes one frame to protobuf bytes (no length prefix). */
export function encodeFrame(frame: FrameInit): Uint8Array {
  return Frame.encode(frame).finish();
}

/**
 * Encodes one frame with its 4-byte big-endian length prefix, in one buffer, for stream transports.
 */
export function encodeFramePrefixed(frame: FrameInit): Uint8Array {
  return prefixLength(encodeFrame(frame));
}

/** Prepends the 4-byte big-endian length to already-encoded frame bytes. */
export function prefixLength(body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, LENGTH_PREFIX_BYTES);
  return out;
}

/**
 * Decodes one frame's protobuf bytes. Throws ProtocolError: BAD_FRAME when the bytes are not a valid
 * Frame, UNKNOWN_FRAME_TYPE when no known body is set, FRAME_TOO_LARGE past `maxFrameBytes`.
 */
export function decodeFrame(bytes: Uint8Array, maxFrameBytes: number): Frame {
  if (bytes.length > maxFrameBytes) {
    throw new ProtocolError(
      DisconnectCode.FRAME_TOO_LARGE,
      `frame of ${bytes.length} bytes exceeds ${maxFrameBytes}`,
    );
  }
  let frame: Frame;
  try {
    frame = Frame.decode(bytes);
  } catch (err) {
    throw new ProtocolError(DisconnectCode.BAD_FRAME, 'malformed frame', { cause: err });
  }
  if (frame.body === undefined) {
    throw new ProtocolError(DisconnectCode.UNKNOWN_FRAME_TYPE, 'frame has no known body');
  }
  return frame;
}
