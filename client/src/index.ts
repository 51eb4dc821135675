/**
 * Ferry client SDK, browser entry (bundled to client/dist/ferry-client.js): WebTransport first, with
 * WebSocket fallback when WebTransport is missing, refused or too slow. Node: import `node.js`.
 */
import { FerryClient, type ClientEvents } from './client.js';
import type { ConnectOptions } from './options.js';
import { webSocketTransport } from './transports/websocket.js';
import { browserWebTransport } from './transports/webtransport.js';
import type { Listener } from './events.js';

export * from './api.js';

/** Listeners attached before the first connection opens, so replayed messages are not missed. */
export type InitialListeners = { [K in keyof ClientEvents]?: Listener<ClientEvents[K]> };

/** Creates a browser client without connecting; call `start()` after adding listeners. */
export function createClient(options: ConnectOptions): FerryClient {
  return new FerryClient(options, { wt: browserWebTransport(), ws: webSocketTransport() }, ['wt', 'ws']);
}

/**
 * Creates a client, attaches `on` listeners, and resolves once the first connection is open (it
 * keeps reconnecting on network errors until then; rejects if the server refuses for good, e.g. a
 * bad token).
 */
export async function connect(options: ConnectOptions & { on?: InitialListeners }): Promise<FerryClient> {
  const client = createClient(options);
  attach(client, options.on);
  await client.start();
  return client;
}

/** Adds each listener of `on` to `client`. */
export function attach(client: FerryClient, on: InitialListeners | undefined): void {
  if (on === undefined) return;
  for (const [event, listener] of Object.entries(on)) {
    if (listener !== undefined) client.on(event as keyof ClientEvents, listener as Listener<unknown>);
  }
}
