/**
 * §5.6: the server sends a frame (at least a Ping) every `heartbeat_ms`; a connection silent for about
 * two heartbeats is dead. Dropping it then is faster than waiting for TCP to notice a vanished peer.
 */
import { dropConnection, type Connection } from './connection.js';
import type { Timers } from './timers.js';

/** Grace on top of two heartbeats, for a server that is merely slow. */
const GRACE_MS = 1000;

/**
 * Checks `conn` every `heartbeatMs` while `isCurrent(conn)`; drops it once nothing arrived for two
 * heartbeats plus a grace. `heartbeatMs` 0 (the server sends none) turns the watch off.
 */
export function watchHeartbeat(
  conn: Connection,
  heartbeatMs: number,
  timers: Timers,
  isCurrent: (conn: Connection) => boolean,
): void {
  if (!(heartbeatMs > 0)) return;
  const check = (): void => {
    if (!isCurrent(conn)) return;
    if (Date.now() - conn.lastRxMs > 2 * heartbeatMs + GRACE_MS) {
      conn.heartbeatTimeout = true;
      dropConnection(conn, 'heartbeat timeout', {
        closeCode: 0,
        closeReason: 'no frame from the server for two heartbeats',
        heartbeatTimeout: true,
      });
      return;
    }
    timers.set(check, heartbeatMs);
  };
  timers.set(check, heartbeatMs);
}
