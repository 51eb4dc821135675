/**
 * One transport connection of a client and what happened on it. The client keeps at most one; every
 * callback checks it still is the client's current one, so a late event of an old connection (a
 * frame, a timer) cannot touch the new one.
 */
import type { ConnectionEnd } from './reconnect-advice.js';
import type { PendingRequests } from './requests.js';
import type { Timers } from './timers.js';
import type { ClientTransport, TransportKind } from './transports/transport.js';
import type { Frame } from './wire.js';

export interface Connection {
  transport: ClientTransport | null;
  kind: TransportKind;
  /** AuthResult arrived: the connection carries application traffic. */
  authed: boolean;
  /**
   * Delivers read before the AuthResult was handled: the server sends its replay right after the
   * AuthResult, often in the same chunk, while the AuthResult reaches the client through a promise.
   */
  early?: NonNullable<Frame['deliver']>[];
  /** The server's Disconnect frame, if one arrived (it wins over the close code). */
  disconnect?: ConnectionEnd['disconnect'];
  heartbeatTimeout: boolean;
  /** When the last frame arrived (the heartbeat watch reads it). */
  lastRxMs: number;
  /** Resolves once with how the connection ended. */
  ended: Promise<ConnectionEnd>;
  /** Ends it (idempotent: the first caller's reason wins, merged with the Disconnect frame). */
  end(e: ConnectionEnd): void;
}

/** A connection not yet opened, expected to use `kind`. */
export function newConnection(kind: TransportKind): Connection {
  let resolveEnd!: (e: ConnectionEnd) => void;
  const ended = new Promise<ConnectionEnd>((r) => (resolveEnd = r));
  let done = false;
  const conn: Connection = {
    transport: null,
    kind,
    authed: false,
    heartbeatTimeout: false,
    lastRxMs: Date.now(),
    ended,
    end: (e) => {
      if (done) return;
      done = true;
      conn.authed = false;
      resolveEnd({
        ...e,
        disconnect: conn.disconnect ?? e.disconnect,
        heartbeatTimeout: conn.heartbeatTimeout,
      });
    },
  };
  return conn;
}

/** Drops `conn` (closing its transport with 4000 `reason`) and ends it with `end`. */
export function dropConnection(conn: Connection, reason: string, end: ConnectionEnd): void {
  conn.transport?.close(4000, reason);
  conn.end(end);
}

/** The Disconnect frame's fields, defaults filled in (docs/protocol.md §5.8). */
export function disconnectOf(frame: Frame): NonNullable<ConnectionEnd['disconnect']> {
  const d = frame.disconnect;
  return {
    code: d?.code ?? 0,
    reason: d?.reason ?? '',
    reconnect: d?.reconnect === true,
    reconnectDelayMs: d?.reconnectDelayMs ?? 0,
    reconnectUrl: d?.reconnectUrl ?? '',
  };
}

/** What the client authenticates with (docs/protocol.md §5.1). */
export interface AuthParams {
  token: string;
  deviceId: string;
  /** Resume point: the highest QoS-1 user seq processed. */
  lastSeq: number;
  client: string;
  /** Drop the connection when no AuthResult arrives within this time. */
  timeoutMs: number;
  /** The AuthResult (or whatever answered the Authenticate) arrived in time. */
  onAuthenticated(frame: Frame): void;
}

/** Sends Authenticate as the first frame on `conn`'s open transport and waits for the answer. */
export function authenticate(
  conn: Connection,
  requests: PendingRequests,
  timers: Timers,
  p: AuthParams,
): void {
  const transport = conn.transport;
  if (transport === null) return;
  const id = requests.allocate();
  transport.send({
    id,
    authenticate: { token: p.token, deviceId: p.deviceId, lastSeq: p.lastSeq, client: p.client },
  });
  const timer = timers.set(() => {
    if (conn.authed) return;
    dropConnection(conn, 'no AuthResult', {
      closeCode: 0,
      closeReason: `no AuthResult within ${p.timeoutMs} ms`,
    });
  }, p.timeoutMs);
  requests.wait(id, 0).then(
    (frame) => {
      timers.clear(timer);
      p.onAuthenticated(frame);
    },
    () => timers.clear(timer),
  );
}
