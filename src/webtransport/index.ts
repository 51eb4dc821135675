/**
 * Ferry's self-contained WebTransport-over-HTTP/3 module: the public surface. The gateway adapter
 * (src/transport/webtransport/) and tools import from here only; everything else in this directory
 * is internal and may change.
 */
export type {
  AdmittedConnection,
  ConnectionAdmission,
  SessionDecision,
  SessionHandler,
  SessionRequest,
  StreamHandler,
  WebTransportLimits,
  WebTransportServerOptions,
  WebTransportSession,
  WtBidiStream,
  WtLogger,
  WtReceiveStream,
  WtSendStream,
} from './api.js';
export { DEFAULT_LIMITS, WebTransportServer } from './server.js';
export { nativeEngineStatus, type QuicEngineName } from './quic/engines.js';
export {
  connect,
  WebTransportConnectError,
  type WebTransportClientOptions,
  type WebTransportClientSession,
} from './client.js';
export { WT_SESSION_GONE, H3_CONNECT_ERROR } from './constants.js';
export {
  CaCertificate,
  CertificateManager,
  type CertificateSource,
  type ServingCertificate,
} from './certs.js';
