/**
 * What to do after a connection ended: the client's reading of docs/protocol.md §5.8, §6.2 and §6.3.
 * Pure, so every rule is unit-tested without sockets.
 */
import { DISCONNECT_NO_RECONNECT_FROM, DISCONNECT_TOKEN_EXPIRED } from './errors.js';

/** How a connection ended, as the client saw it. */
export interface ConnectionEnd {
  /**
   * The Disconnect frame the server sent before closing, if one arrived. It is authoritative: its
   * code, `reconnect` flag, delay and URL win over the transport's close code.
   */
  disconnect?: {
    code: number;
    reason: string;
    reconnect: boolean;
    reconnectDelayMs: number;
    reconnectUrl: string;
  };
  /** WebSocket close code, WebTransport application error code, or 0 (TCP, network loss). */
  closeCode: number;
  closeReason: string;
  /** The client itself found the server's bytes unreadable (the connection was dropped). */
  protocolError?: boolean;
  /** The client dropped the connection because the server went silent (about 2 heartbeats). */
  heartbeatTimeout?: boolean;
}

/** The decision: reconnect (after at least `minDelayMs`, maybe elsewhere) or stop. */
export type ReconnectAdvice =
  | {
      action: 'reconnect';
      /** The code the decision rests on (0 = network error, no code). */
      code: number;
      reason: string;
      /** The server's `reconnect_delay_ms` (0 = none given: plain backoff). */
      minDelayMs: number;
      /** The server's `reconnect_url` ('' = the same endpoints). */
      url: string;
      /** 4009 TOKEN_EXPIRED: get a fresh token from `getToken` before reconnecting. */
      refreshToken: boolean;
    }
  | { action: 'stop'; code: number; reason: string };

/**
 * WebSocket layer codes (RFC 6455 §7.4.1) that mean a broken client or a frame far too large: retrying
 * the same thing cannot help (docs/protocol.md §6.3). 1008 (too many fragments) is a client bug too.
 */
const WS_NO_RECONNECT = new Set([1002, 1003, 1007, 1008, 1009, 1010]);

/** Decides from the Disconnect frame when there is one, else from the transport's close code. */
export function adviseReconnect(end: ConnectionEnd): ReconnectAdvice {
  const d = end.disconnect;
  if (d !== undefined && d.code !== 0) {
    // §6.2: `reconnect` is false exactly for 4500-4999; "a client MAY rely on the code range alone",
    // and must treat unlisted codes by their range, so the flag and the range are both honoured.
    if (!d.reconnect || d.code >= DISCONNECT_NO_RECONNECT_FROM) return stop(d.code, d.reason);
    return {
      action: 'reconnect',
      code: d.code,
      reason: d.reason,
      minDelayMs: d.reconnectDelayMs,
      url: d.reconnectUrl,
      refreshToken: d.code === DISCONNECT_TOKEN_EXPIRED,
    };
  }
  const code = end.closeCode;
  if (code >= 4000 && code <= 4999) {
    if (code >= DISCONNECT_NO_RECONNECT_FROM) return stop(code, end.closeReason);
    return reconnect(code, end.closeReason, code === DISCONNECT_TOKEN_EXPIRED);
  }
  if (WS_NO_RECONNECT.has(code)) return stop(code, end.closeReason || `WebSocket close ${code}`);
  // 1000/1001 (orderly), 1006 (abnormal), 1011 (server error), 0 (TCP end, network loss, a local
  // protocol error or a silent server): the connection is gone, not refused. Reconnect with backoff.
  const reason =
    end.closeReason ||
    (end.protocolError === true
      ? 'unreadable frames from the server'
      : end.heartbeatTimeout === true
        ? 'no frame from the server for two heartbeats'
        : 'connection lost');
  return reconnect(code, reason, false);
}

function stop(code: number, reason: string): ReconnectAdvice {
  return { action: 'stop', code, reason };
}

function reconnect(code: number, reason: string, refreshToken: boolean): ReconnectAdvice {
  return { action: 'reconnect', code, reason, minDelayMs: 0, url: '', refreshToken };
}
