/**
 * The bare `ws` (and raw TCP) gateway shared by the comparison servers: bench/baseline-ws-server.ts
 * (one process, in-memory forward; with `--wt-port` also WebTransport, bench/lib/bare-wt-listener.ts)
 * and bench/lib/minimal-forward-node.ts (two processes forwarding through Redis Streams). Same frames
 * on the wire as Ferry and none of its code paths (no sessions, rate limits, queues, bus, metrics or
 * JWT):
 *
 *  - Auth: the first frame must be Authenticate; its `token` is taken as the user id (no check). The
 *    answer is AuthResult { user_id }. A second connection of the same user replaces the first.
 *  - Send: the recipient is found by one Map lookup; it gets Deliver { from_user, payload,
 *    timestamp_ms } and the sender gets SendAck { timestamp_ms } with the Send's id (Ferry answers
 *    QoS-0 sends with a SendAck too, so both write two frames per message). QoS is ignored: nothing is
 *    stored. A recipient not connected here is handed to `remote` (the cluster forward), if any.
 *  - Ping is answered with Pong; everything else is ignored.
 */
import http from 'node:http';
import net from 'node:net';
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
} from './frames.js';

/**
 * What the router needs from a connection, whichever transport carries it (listeners outside this
 * file, like bench/lib/bare-wt-listener.ts, create these and feed `peerOnFrame` / `peerOnClose`).
 */
export interface Peer {
  userId: Buffer | null;
  prefixed: boolean;
  write(frame: Buffer): void;
  /** Bytes accepted but not yet handed to the kernel. */
  buffered(): number;
  close(): void;
}

/**
 * Takes a Send whose recipient (`src[toStart, toEnd)`) is not connected here, with its payload
 * `src[payloadStart, payloadEnd)`; `src` is only valid during the call. False = nobody took it.
 */
export type RemoteSend = (
  from: Buffer,
  src: Buffer,
  toStart: number,
  toEnd: number,
  payloadStart: number,
  payloadEnd: number,
) => boolean;

export interface BareGatewayOptions {
  /** Batch writes per event-loop turn (an experiment, see `corkOnce`). */
  cork?: boolean;
  remote?: RemoteSend;
}

/** Frames to a peer whose unsent bytes exceed this are dropped (the baseline's only protection). */
const MAX_BUFFERED = 64 * 1024 * 1024;
export const MAX_FRAME_BYTES = 64 * 1024;

/**
 * `cork` (off by default): writes to a socket are held (socket.cork) until the end of the current
 * event-loop turn, so all frames for one peer produced while handling one batch of reads leave in one
 * writev instead of one each. Shows what batching writes would save; not baseline behaviour.
 */
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

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export class BareGateway {
  readonly users = new Map<string, Peer>();
  /** `forwarded` counts Delivers written here (local sends and, in a cluster, arrivals). */
  readonly stats = { frames: 0, forwarded: 0, dropped: 0, noRecipient: 0 };
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private readonly cork: boolean;
  private readonly remote: RemoteSend | undefined;

  constructor(o: BareGatewayOptions = {}) {
    this.cork = o.cork ?? false;
    this.remote = o.remote;
  }

  /**
   * Writes Deliver { from, src[payloadStart, payloadEnd) } to user `to` if connected here (dropped and
   * counted past MAX_BUFFERED); false when `to` is not connected here.
   */
  deliverLocal(
    to: string,
    from: Buffer,
    src: Buffer,
    payloadStart: number,
    payloadEnd: number,
    now: number,
  ): boolean {
    const peer = this.users.get(to);
    if (peer === undefined) return false;
    if (peer.buffered() > MAX_BUFFERED) this.stats.dropped++;
    else {
      peer.write(encodeDeliver(from, src, payloadStart, payloadEnd, now, peer.prefixed));
      this.stats.forwarded++;
    }
    return true;
  }

  /** Listens for WebSocket clients on `/ws` and, with `tcpPort`, raw TCP clients; returns the URLs. */
  async listen(host: string, wsPort: number, tcpPort?: number): Promise<{ ws: string; tcp?: string }> {
    const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
    // Accept failures (EMFILE at the fd limit) are reported, never fatal: libuv already closes the
    // connection it could not hand over.
    httpServer.on('error', (err) => process.stderr.write(`bare: ws listener error: ${err.message}\n`));
    const wss = new WebSocketServer({
      server: httpServer,
      path: '/ws',
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: MAX_FRAME_BYTES,
    });
    wss.on('connection', (ws: WebSocket) => this.wsOnConnection(ws));
    const urls: { ws: string; tcp?: string } = {
      ws: `ws://${host}:${await listen(httpServer, host, wsPort)}/ws`,
    };
    if (tcpPort !== undefined) {
      const tcpServer = net.createServer((socket) => this.tcpOnConnection(socket));
      tcpServer.on('error', (err) => process.stderr.write(`bare: tcp listener error: ${err.message}\n`));
      urls.tcp = `tcp://${host}:${await listen(tcpServer, host, tcpPort)}`;
    }
    return urls;
  }

  /** Handles one frame from `peer`; returns false when the peer must be closed (bad first frame). */
  peerOnFrame(peer: Peer, buf: Buffer, start: number, end: number): boolean {
    this.stats.frames++;
    const { reader, view } = this;
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
      const old = this.users.get(key);
      this.users.set(key, peer);
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
      const from = peer.userId;
      const to = buf.toString('utf8', toStart, toEnd);
      if (
        !this.deliverLocal(to, from, buf, payloadStart, payloadEnd, now) &&
        this.remote?.(from, buf, toStart, toEnd, payloadStart, payloadEnd) !== true
      )
        this.stats.noRecipient++;
      // Request id 0 asks for no answer on a QoS-0 Send, as in Ferry (docs/protocol.md §5.3).
      if (id !== 0) peer.write(encodeSendAck(id, now, peer.prefixed));
    } else if (body === BODY.ping) {
      let ts = 0;
      reader.reset(buf, view.start, view.end);
      while (reader.next()) if (reader.field === 1 && reader.wireType === 0) ts = reader.value;
      peer.write(encodePong(id, ts, peer.prefixed));
    }
    return true;
  }

  /** `peer`'s connection is gone: forget its user unless a newer connection replaced it. */
  peerOnClose(peer: Peer): void {
    if (peer.userId === null) return;
    const key = peer.userId.toString();
    if (this.users.get(key) === peer) this.users.delete(key);
  }

  private wsOnConnection(ws: WebSocket): void {
    const socket = (ws as unknown as { _socket: net.Socket })._socket;
    const cork = this.cork;
    const peer: Peer = {
      userId: null,
      prefixed: false,
      write: (frame) => {
        if (cork) corkOnce(socket);
        ws.send(frame);
      },
      buffered: () => ws.bufferedAmount,
      close: () => ws.close(4505, 'replaced'),
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || !this.peerOnFrame(peer, data, 0, data.length)) ws.close(4503, 'protocol violation');
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.peerOnClose(peer));
  }

  private tcpOnConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    const frames = new PrefixedReader(MAX_FRAME_BYTES);
    const cork = this.cork;
    const peer: Peer = {
      userId: null,
      prefixed: true,
      write: (frame) => {
        if (cork) corkOnce(socket);
        socket.write(frame);
      },
      buffered: () => socket.writableLength,
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(chunk, (buf, start, end) => {
          if (!this.peerOnFrame(peer, buf, start, end)) throw new Error('protocol violation');
        });
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.peerOnClose(peer));
  }
}
