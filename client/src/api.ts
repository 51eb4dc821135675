/** The public types and classes both entry points export. */
export { Backoff, type BackoffOptions } from './backoff.js';
export {
  FerryClient,
  type ClientEvents,
  type ClientState,
  type DisconnectInfo,
  type OpenInfo,
  type TransportFactories,
  type UserPresence,
} from './client.js';
export { FerryClientError, TransportUnavailableError, type ClientErrorCode } from './errors.js';
export type { Message } from './inbox.js';
export type { ConnectOptions, Endpoints } from './options.js';
export type { SendOptions, SendResult } from './outbox.js';
export type { SubscribeOptions } from './subscriptions.js';
export { adviseReconnect, type ConnectionEnd, type ReconnectAdvice } from './reconnect-advice.js';
export { MemoryStorage, type KeyValueStorage } from './transport-memory.js';
export type { TransportKind } from './transports/transport.js';
/**
 * The frame codec and stream framing (docs/protocol.md §2-§3), for tools that speak frames themselves
 * rather than through FerryClient (the node's /wt-test page does).
 */
export {
  decodeFrame,
  encodeFrame,
  encodeFramePrefixed,
  StreamFrameReader,
  type Frame,
  type FrameInit,
} from './wire.js';
