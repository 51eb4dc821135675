/**
 * Ferry's public API for embedding a node or speaking its protocol from Node.js.
 * Everything exported here is covered by semver; deep imports are not.
 */
export { Gateway, type GatewayAddresses } from './gateway.js';
export { defaultConfig, type FerryConfig } from './config/schema.js';
export { loadConfig } from './config/load.js';
export { createLogger, type Logger } from './observability/logger.js';
export {
  DisconnectCode,
  ReplyCode,
  GatewayError,
  ProtocolError,
  RequestError,
  AuthError,
  ConfigError,
  StoreError,
  shouldReconnect,
  disconnectCodeName,
  replyCodeName,
} from './errors.js';
export {
  Frame,
  type FrameInit,
  encodeFrame,
  encodeFramePrefixed,
  decodeFrame,
  prefixLength,
  LENGTH_PREFIX_BYTES,
} from './protocol/codec.js';
export { StreamFrameReader } from './protocol/stream-reader.js';
export { mintToken } from './auth/jwt/mint.js';
export type { Authenticator, Identity } from './auth/authenticator.js';
export type { Bus, BusHandler, Envelope, ControlMessage, QoS } from './bus/bus.js';
export type { Presence, PresenceEntry } from './bus/presence.js';
export type { MessageStore, AppendResult, NewMessage } from './store/message-store.js';
export type {
  Connection,
  ConnectionHandler,
  Listener,
  TransportKind,
  Framing,
} from './transport/transport.js';
