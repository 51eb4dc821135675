/**
 * Looking at a frame's top level without decoding it (docs/protocol.md §4.1): the session prices a
 * frame against its rate limit before it spends a protobuf decode on it, so a frame that has to wait
 * or is refused costs a pass over a few tags, not a decode.
 */
import { BODY_FIELD_NUMBERS, FRAME_ID_FIELD_NUMBER, WIRE_TYPE_LEN } from './constants.js';

const WIRE_TYPE_VARINT = 0;
/** A u32 length or a field tag takes at most 5 varint bytes; a u64 value at most 10. */
const MAX_TAG_BYTES = 5;
const MAX_VARINT_BYTES = 10;

const CONTROL_FIELDS = new Set<number>([
  BODY_FIELD_NUMBERS.ack,
  BODY_FIELD_NUMBERS.ping,
  BODY_FIELD_NUMBERS.pong,
]);

/**
 * True when the frame's top level holds nothing but a request id (field 1, varint) and at least one
 * Ack, Ping or Pong body: the cheap control frames of docs/protocol.md §5.10. Anything else (another
 * body beside them, an unknown field, a wire type out of place, a truncated tag or length) is false,
 * which prices the frame as a request: the conservative answer, since proto3 lets the last of several
 * bodies win, and a frame the decoder will refuse costs nothing more than a request either way.
 * Reads only tags and lengths; never allocates.
 */
export function isControlFrame(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let pos = 0;
  let control = false;
  while (pos < end) {
    let tag = 0;
    let b: number;
    let shift = 0;
    do {
      if (pos >= end || shift >= 7 * MAX_TAG_BYTES) return false;
      b = bytes[pos++]!;
      tag += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === WIRE_TYPE_VARINT && field === FRAME_ID_FIELD_NUMBER) {
      let n = 0;
      do {
        if (pos >= end || n++ >= MAX_VARINT_BYTES) return false;
      } while (bytes[pos++]! >= 0x80);
      continue;
    }
    if (wireType !== WIRE_TYPE_LEN || !CONTROL_FIELDS.has(field)) return false;
    let length = 0;
    shift = 0;
    do {
      if (pos >= end || shift >= 7 * MAX_TAG_BYTES) return false;
      b = bytes[pos++]!;
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    if (length > end - pos) return false;
    pos += length;
    control = true;
  }
  return control;
}
