/**
 * `node:buffer` for the browser bundle (scripts/build-client.mjs aliases it here and injects `Buffer`):
 * the shared codec uses Buffer for zero-copy views and `isUtf8` to refuse invalid strings.
 */
import { Buffer } from 'buffer';

export { Buffer };

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** Node's `buffer.isUtf8`: true when `bytes` are well-formed UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    fatalDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
