/**
 * The one catalogue of Ferry's errors. Every error the gateway reports to a client, an operator or a
 * caller has a stable symbolic code (`FERRY_ERR_*`) and, when it goes on the wire, a stable numeric
 * code documented in docs/protocol.md (test/unit/errors.test.ts checks that every code is documented).
 *
 * Two tiers on the wire:
 *  - reply errors (100-999): one request failed, the connection stays open;
 *  - disconnects (4000-4999): the connection ends. 4000-4499 = the client should reconnect (after the
 *    advised delay, with jitter); 4500-4999 = it should not reconnect until something changes.
 * Disconnect codes double as WebSocket close codes (RFC 6455 §7.4.2 reserves 4000-4999 for applications).
 */

/** Reply error codes: the request failed, the connection is kept. */
export const ReplyCode = {
  INTERNAL: 100,
  BAD_REQUEST: 101,
  NOT_FOUND: 102,
  PERMISSION_DENIED: 103,
  RATE_LIMITED: 104,
  PAYLOAD_TOO_LARGE: 105,
  ALREADY_AUTHENTICATED: 106,
  UNAVAILABLE: 107,
  LIMIT_EXCEEDED: 108,
  BUSY: 109,
} as const;
export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];

/** Disconnect codes: the connection ends. < 4500 means "reconnect", >= 4500 means "don't". */
export const DisconnectCode = {
  // 4000-4499: reconnect advised.
  NORMAL: 4000,
  GOING_AWAY: 4001,
  SERVER_ERROR: 4002,
  SLOW_CONSUMER: 4003,
  IDLE_TIMEOUT: 4004,
  AUTH_TIMEOUT: 4005,
  FLOOD: 4006,
  CONNECTION_LIMIT: 4007,
  SERVER_FULL: 4008,
  TOKEN_EXPIRED: 4009,
  AUTH_UNAVAILABLE: 4010,
  // 4500-4999: do not reconnect without a change.
  BAD_FRAME: 4500,
  FRAME_TOO_LARGE: 4501,
  UNKNOWN_FRAME_TYPE: 4502,
  PROTOCOL_VIOLATION: 4503,
  AUTH_FAILED: 4504,
  REPLACED: 4505,
  KICKED: 4506,
  FORBIDDEN_ORIGIN: 4507,
} as const;
export type DisconnectCode = (typeof DisconnectCode)[keyof typeof DisconnectCode];

/** True when a client receiving this disconnect code should reconnect. */
export function shouldReconnect(code: number): boolean {
  return code >= 4000 && code < 4500;
}

/** Base of every error Ferry throws on purpose. `code` is stable and documented. */
export class GatewayError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A peer broke the protocol. Thrown inside decoders; caught in exactly one place per connection
 * (the session's frame intake), which closes the connection with `disconnectCode`.
 */
export class ProtocolError extends GatewayError {
  readonly disconnectCode: DisconnectCode;
  constructor(disconnectCode: DisconnectCode, message: string, options?: { cause?: unknown }) {
    super(`FERRY_ERR_PROTOCOL_${disconnectCodeName(disconnectCode)}`, message, options);
    this.disconnectCode = disconnectCode;
  }
}

/** A single request failed; the connection stays open. */
export class RequestError extends GatewayError {
  readonly replyCode: ReplyCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number;
  constructor(
    replyCode: ReplyCode,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(`FERRY_ERR_REQUEST_${replyCodeName(replyCode)}`, message);
    this.replyCode = replyCode;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs ?? 0;
  }
}

/** A token or credential was refused. */
export class AuthError extends GatewayError {
  readonly disconnectCode: DisconnectCode;
  constructor(message: string, disconnectCode: DisconnectCode = DisconnectCode.AUTH_FAILED) {
    super('FERRY_ERR_AUTH', message);
    this.disconnectCode = disconnectCode;
  }
}

/** Configuration is invalid; the message names the setting and where it came from. */
export class ConfigError extends GatewayError {
  constructor(message: string) {
    super('FERRY_ERR_CONFIG', message);
  }
}

/** Storage (the QoS-1 log) refused or failed an operation. Retryable for the client. */
export class StoreError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FERRY_ERR_STORE', message, options);
  }
}

/**
 * The bus (in-process or Redis Streams) could not take or forward a message: it is not started or
 * already closed, Redis did not answer, or the recipient's node has no inbox. Thrown by bus
 * implementations; the message is for logs. Only the edges turn it into a client-facing answer
 * (session/reply-errors.ts: 107 UNAVAILABLE; access/status-mapping.ts: gRPC UNAVAILABLE).
 */
export class BusUnavailableError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FERRY_ERR_BUS_UNAVAILABLE', message, options);
  }
}

/**
 * The presence view could not be read or written (closed, Redis did not answer). Thrown by presence
 * implementations; mapped at the edges like BusUnavailableError.
 */
export class PresenceUnavailableError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FERRY_ERR_PRESENCE_UNAVAILABLE', message, options);
  }
}

const disconnectNames = new Map<number, string>(Object.entries(DisconnectCode).map(([k, v]) => [v, k]));
const replyNames = new Map<number, string>(Object.entries(ReplyCode).map(([k, v]) => [v, k]));

/** Symbolic name of a disconnect code ("SLOW_CONSUMER"), or "UNKNOWN". */
export function disconnectCodeName(code: number): string {
  return disconnectNames.get(code) ?? 'UNKNOWN';
}

/** Symbolic name of a reply code ("RATE_LIMITED"), or "UNKNOWN". */
export function replyCodeName(code: number): string {
  return replyNames.get(code) ?? 'UNKNOWN';
}

/** Every symbolic `FERRY_ERR_*` code the gateway can produce, for the documentation check. */
export function allErrorCodes(): string[] {
  return [
    ...Object.keys(DisconnectCode).map((k) => `FERRY_ERR_PROTOCOL_${k}`),
    ...Object.keys(ReplyCode).map((k) => `FERRY_ERR_REQUEST_${k}`),
    'FERRY_ERR_AUTH',
    'FERRY_ERR_CONFIG',
    'FERRY_ERR_STORE',
    'FERRY_ERR_BUS_UNAVAILABLE',
    'FERRY_ERR_PRESENCE_UNAVAILABLE',
  ];
}
