/**
 * The SDK's view of the shared wire layer (src/protocol: the codec generated from
 * proto/ferry/v1/frame.proto, and the u32-BE stream framing). The SDK imports nothing else from the
 * gateway's source; in the browser bundle `node:buffer` is provided by shims/node-buffer.ts.
 */
export {
  decodeFrame,
  encodeFrame,
  encodeFramePrefixed,
  type Frame,
  type FrameInit,
} from '../../src/protocol/codec.js';
export { StreamFrameReader } from '../../src/protocol/stream-reader.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  QOS_AT_LEAST_ONCE,
  QOS_AT_MOST_ONCE,
} from '../../src/protocol/constants.js';
