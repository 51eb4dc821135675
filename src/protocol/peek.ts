/**
 * Looking at a frame's top level without decoding it (docs/protocol.md §4.1): the session prices a
 * frame against its rate limit before it spends a protobuf decode on it, so a frame that has to wait
 * or is refused costs a pass over a few tags, not a decode.
 */
import { BODY_FIELD_NUMBERS, FRAME_ID_FIELD_NUMBER, WIRE_TYPE_LEN } from './constants.js';

const WIRE_TYPE_VARINT = 0;
/** §4.1: a tag or a length fits in 5 varint bytes; a 64-bit value takes at most 10. */
const MAX_TAG_BYTES = 5;
const MAX_VALUE_BYTES = 10;

const CONTROL_FIELDS = new Set<number>([
  BODY_FIELD_NUMBERS.ack,
  BODY_FIELD_NUMBERS.ping,
  BODY_FIELD_NUMBERS.pong,
]);

/** Where `varint` stopped reading (module state: single-threaded, and no allocation per call). */
let pos = 0;

/** Reads the varint at `pos` (at most `maxBytes`), advancing `pos`; -1 when truncated or too long. */
function varint(bytes: Uint8Array, maxBytes: number): number {
  let value = 0;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= bytes.length) return -1;
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return value;
  }
  return -1;
}

/**
 * True when the frame's top level holds nothing but a request id (field 1, varint) and at least one
 * Ack, Ping or Pong body: the cheap control frames of docs/protocol.md §5.10. Anything else (another
 * body beside them, an unknown field, a wire type out of place, a truncated tag or length) is false,
 * which prices the frame as a request: the conservative answer, since proto3 lets the last of several
 * bodies win, and a frame the decoder will refuse costs nothing more than a request either way.
 * Reads only tags and lengths; never allocates.
 */
export function isControlFrame(bytes: Uint8Array): boolean {
  pos = 0;
  let control = false;
  while (pos < bytes.length) {
    const tag = varint(bytes, MAX_TAG_BYTES);
    if (tag < 0) return false;
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === WIRE_TYPE_VARINT && field === FRAME_ID_FIELD_NUMBER) {
      if (varint(bytes, MAX_VALUE_BYTES) < 0) return false;
      continue;
    }
    if (wireType !== WIRE_TYPE_LEN || !CONTROL_FIELDS.has(field)) return false;
    const length = varint(bytes, MAX_TAG_BYTES);
    if (length < 0 || length > bytes.length - pos) return false;
    pos += length;
    control = true;
  }
  return control;
}
