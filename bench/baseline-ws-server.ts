/**
 * The comparison point for Ferry's throughput and memory figures: a bare `ws` (and raw TCP) server
 * that forwards in memory, with the same frames on the wire and none of Ferry's code paths (no
 * sessions, rate limits, queues, bus, metrics or JWT).
 *
 *  - Auth: the first frame must be Authenticate; its `token` is taken as the user id (no check). The
 *    answer is AuthResult { user_id }. A second connection of the same user replaces the first.
 *  - Send: the recipient is found by one Map lookup; it gets Deliver { from_user, payload,
 *    timestamp_ms } and the sender gets SendAck { timestamp_ms } with the Send's id (Ferry answers
 *    QoS-0 sends with a SendAck too, so both servers write two frames per message). QoS is ignored:
 *    nothing is stored.
 *  - Ping is answered with Pong; everything else is ignored.
 *
 * Prints one JSON line `{"msg":"baseline ready","addresses":{"ws":{"url"},"tcp":{"url"}},"pid"}` like
 * Ferry's "ferry ready", then runs until SIGTERM/SIGINT or `--max-seconds` (default 3600) passes.
 *
 *   node --import tsx bench/baseline-ws-server.ts [--host 127.0.0.1] [--ws-port 0] [--tcp-port 0]
 */
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  BODY,
  FieldReader,
  PrefixedReader,
  encodeAuthResult,
  encodeDeliver,
  encodePong,
  encodeSendAck,
  readFrame,
  type FrameView,
} from './lib/frames.js';

/** What the router needs from a connection, whichever transport carries it. */
interface Peer {
  userId: Buffer | null;
  prefixed: boolean;
  write(frame: Buffer): void;
  /** Bytes accepted but not yet handed to the kernel. */
  buffered(): number;
  close(): void;
}

/** Frames to a peer whose unsent bytes exceed this are dropped (the baseline's only protection). */
const MAX_BUFFERED = 64 * 1024 * 1024;
const MAX_FRAME_BYTES = 64 * 1024;

const users = new Map<string, Peer>();
const reader = new FieldReader();
const view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
const stats = { frames: 0, forwarded: 0, dropped: 0, noRecipient: 0 };

/** Handles one frame from `peer`; returns false when the peer must be closed (bad first frame). */
function peerOnFrame(peer: Peer, buf: Buffer, start: number, end: number): boolean {
  stats.frames++;
  try {
    readFrame(reader, buf, start, end, view);
  } catch {
    return false;
  }
  const { id, body } = view;
  if (peer.userId === null) {
    if (body !== BODY.authenticate) return false;
    reader.reset(buf, view.start, view.end);
    while (reader.next()) {
      if (reader.field === 1 && reader.wireType === 2)
        peer.userId = buf.subarray(reader.lenStart, reader.lenEnd);
    }
    if (peer.userId === null || peer.userId.length === 0) return false;
    peer.userId = Buffer.from(peer.userId); // own copy: do not pin the read chunk
    const key = peer.userId.toString();
    const old = users.get(key);
    users.set(key, peer);
    if (old !== undefined && old !== peer) old.close();
    peer.write(encodeAuthResult(id, peer.userId, peer.prefixed));
    return true;
  }
  if (body === BODY.send) {
    let toStart = 0;
    let toEnd = 0;
    let payloadStart = 0;
    let payloadEnd = 0;
    reader.reset(buf, view.start, view.end);
    while (reader.next()) {
      if (reader.wireType !== 2) continue;
      if (reader.field === 1) {
        toStart = reader.lenStart;
        toEnd = reader.lenEnd;
      } else if (reader.field === 2) {
        payloadStart = reader.lenStart;
        payloadEnd = reader.lenEnd;
      }
    }
    const now = Date.now();
    const to = users.get(buf.toString('utf8', toStart, toEnd));
    if (to === undefined) stats.noRecipient++;
    else if (to.buffered() > MAX_BUFFERED) stats.dropped++;
    else {
      to.write(encodeDeliver(peer.userId, buf, payloadStart, payloadEnd, now, to.prefixed));
      stats.forwarded++;
    }
    peer.write(encodeSendAck(id, now, peer.prefixed));
  } else if (body === BODY.ping) {
    let ts = 0;
    reader.reset(buf, view.start, view.end);
    while (reader.next()) if (reader.field === 1 && reader.wireType === 0) ts = reader.value;
    peer.write(encodePong(id, ts, peer.prefixed));
  }
  return true;
}

function peerOnClose(peer: Peer): void {
  if (peer.userId === null) return;
  const key = peer.userId.toString();
  if (users.get(key) === peer) users.delete(key);
}

/**
 * `--cork` (an experiment, off by default): writes to a socket are held (socket.cork) until the end of
 * the current event-loop turn, so all frames for one peer produced while handling one batch of reads
 * leave in one writev instead of one each. Shows what batching writes would save; not baseline behaviour.
 */
let corkWrites = false;
const corked: (net.Socket & { benchCorked?: boolean })[] = [];

function uncorkAll(): void {
  for (const socket of corked) {
    socket.benchCorked = false;
    socket.uncork();
  }
  corked.length = 0;
}

function corkOnce(socket: net.Socket & { benchCorked?: boolean }): void {
  if (socket.benchCorked === true) return;
  socket.benchCorked = true;
  socket.cork();
  if (corked.push(socket) === 1) setImmediate(uncorkAll);
}

function wsOnConnection(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket: net.Socket })._socket;
  const peer: Peer = {
    userId: null,
    prefixed: false,
    write: (frame) => {
      if (corkWrites) corkOnce(socket);
      ws.send(frame);
    },
    buffered: () => ws.bufferedAmount,
    close: () => ws.close(4505, 'replaced'),
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || !peerOnFrame(peer, data, 0, data.length)) ws.close(4503, 'protocol violation');
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => peerOnClose(peer));
}

function tcpOnConnection(socket: net.Socket): void {
  socket.setNoDelay(true);
  const frames = new PrefixedReader(MAX_FRAME_BYTES);
  const peer: Peer = {
    userId: null,
    prefixed: true,
    write: (frame) => {
      if (corkWrites) corkOnce(socket);
      socket.write(frame);
    },
    buffered: () => socket.writableLength,
    close: () => socket.destroy(),
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      frames.push(chunk, (buf, start, end) => {
        if (!peerOnFrame(peer, buf, start, end)) throw new Error('protocol violation');
      });
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => peerOnClose(peer));
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      'ws-port': { type: 'string', default: '0' },
      'tcp-port': { type: 'string', default: '0' },
      'max-seconds': { type: 'string', default: '3600' },
      cork: { type: 'boolean', default: false },
    },
  });
  const host = values.host;
  corkWrites = values.cork;
  const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
  // Accept failures (EMFILE at the fd limit) are reported, never fatal: libuv already closes the
  // connection it could not hand over.
  httpServer.on('error', (err) => process.stderr.write(`baseline: ws listener error: ${err.message}\n`));
  const wss = new WebSocketServer({
    server: httpServer,
    path: '/ws',
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: MAX_FRAME_BYTES,
  });
  wss.on('connection', wsOnConnection);
  const wsPort = await listen(httpServer, host, Number(values['ws-port']));
  const tcpServer = net.createServer(tcpOnConnection);
  tcpServer.on('error', (err) => process.stderr.write(`baseline: tcp listener error: ${err.message}\n`));
  const tcpPort = await listen(tcpServer, host, Number(values['tcp-port']));

  process.stdout.write(
    JSON.stringify({
      msg: 'baseline ready',
      pid: process.pid,
      addresses: { ws: { url: `ws://${host}:${wsPort}/ws` }, tcp: { url: `tcp://${host}:${tcpPort}` } },
    }) + '\n',
  );
  const stop = (): void => {
    process.stdout.write(JSON.stringify({ msg: 'baseline stopping', users: users.size, ...stats }) + '\n');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setTimeout(stop, Number(values['max-seconds']) * 1000).unref();
  // Keep the process alive while the listeners are open (the timer above is unref'd).
}

void main();
