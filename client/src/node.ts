/**
 * Ferry client SDK, Node entry: WebTransport (Ferry's own HTTP/3 client; Node has no WebTransport
 * global), WebSocket (the `ws` package) and raw TCP/TLS.
 */
import type tls from 'node:tls';
import WebSocket from 'ws';
import { FerryClient } from './client.js';
import { attach, type InitialListeners } from './index.js';
import type { ConnectOptions } from './options.js';
import { nodeWebTransport } from './transports/node-webtransport.js';
import { tcpTransport } from './transports/tcp.js';
import { webSocketTransport, type WebSocketConstructor } from './transports/websocket.js';

export * from './api.js';
export type { InitialListeners } from './index.js';

/** Node-only options. */
export interface NodeConnectOptions extends ConnectOptions {
  /** TLS options for `tls://` TCP endpoints (e.g. `ca`). */
  tcpTls?: tls.ConnectionOptions;
  /** PEM bundle verifying a CA-issued WebTransport certificate (instead of `certHashes`). */
  wtCaPem?: string;
}

/** Creates a Node client without connecting; call `start()` after adding listeners. */
export function createClient(options: NodeConnectOptions): FerryClient {
  return new FerryClient(
    options,
    {
      wt: nodeWebTransport(options.wtCaPem),
      ws: webSocketTransport(WebSocket as unknown as WebSocketConstructor),
      tcp: tcpTransport(options.tcpTls),
    },
    ['wt', 'ws', 'tcp'],
  );
}

/** As the browser `connect`: resolves once the first connection is open. */
export async function connect(options: NodeConnectOptions & { on?: InitialListeners }): Promise<FerryClient> {
  const client = createClient(options);
  attach(client, options.on);
  await client.start();
  return client;
}
