/**
 * A UDP socket driving QUIC connections: the part shared by the server and the client endpoint.
 *
 * Performance notes (loopback bulk transfer is bounded by per-datagram JS work, not by crypto):
 * - Received datagrams only feed the engine and mark the connection; one `setImmediate` per event-loop
 *   turn then runs each marked connection's `process` once, after libuv has read every datagram that
 *   was waiting, so ACK processing, stream delivery and the send loop are batched.
 * - The send loop reuses one buffer. dgram sends synchronously when the address needs no DNS (our
 *   `lookup` answers IP literals inline, and the client socket is connected) and the kernel takes the
 *   datagram at once; only when libuv had to queue it (`getSendQueueCount() > 0`) is the buffer still
 *   referenced, and a fresh one replaces it.
 * - A QUIC short-header packet cannot be followed by another packet in the same datagram (RFC 9000
 *   §12.2), and `socket.send([...])` joins its buffers into one datagram, so each packet is one
 *   `send` call; quiche already coalesces handshake packets itself.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { WtLogger } from '../api.js';
import type { QuicAddress } from './engine.js';
import type { QuicConnection, QuicConnectionHost } from './connection.js';

/** SO_RCVBUF/SO_SNDBUF request: bursts of a few hundred packets must not overflow the socket. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Largest UDP payload we can send; the engine caps what it writes at its configured size. */
const SEND_BUFFER_BYTES = 65536;

/** dgram's default lookup defers every send to the next tick even for IP literals; ours is inline. */
function inlineLookup(
  address: string,
  _family: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family === 0) callback(new Error(`not an IP address: ${address}`), address, 4);
  else callback(null, address, family);
}

/** Base of {@link QuicServerEndpoint} and {@link QuicClientEndpoint}. */
export abstract class QuicEndpoint implements QuicConnectionHost {
  /** Null when the engine owns the socket (the server endpoint then overrides the I/O methods). */
  protected readonly socket: dgram.Socket | null;
  protected local: QuicAddress = { host: '0.0.0.0', port: 0 };
  protected closed = false;
  private sendBuffer = Buffer.allocUnsafe(SEND_BUFFER_BYTES);
  private pending: QuicConnection[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private readonly runPending = (): void => {
    this.immediate = null;
    const batch = this.pending;
    this.pending = [];
    for (const conn of batch) {
      conn.scheduled = false;
      conn.process();
    }
  };

  protected constructor(
    host: string,
    protected readonly logger: WtLogger,
    /** Connected sockets (client) send without an address. */
    private readonly connected: boolean,
    /** False when the engine owns the socket: no node:dgram socket is made. */
    useDgram = true,
  ) {
    if (!useDgram) {
      this.socket = null;
      return;
    }
    const socket = dgram.createSocket({
      type: isIP(host) === 6 ? 'udp6' : 'udp4',
      lookup: inlineLookup as unknown as dgram.SocketOptions['lookup'],
    });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (err) => this.logger.warn({ err }, 'webtransport: udp socket error'));
    this.socket = socket;
  }

  private get dgramSocket(): dgram.Socket {
    if (this.socket === null) throw new Error('this endpoint has no node:dgram socket');
    return this.socket;
  }

  /** Binds the socket; returns the bound address. */
  protected async bind(host: string, port: number): Promise<QuicAddress> {
    const socket = this.dgramSocket;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch (err) {
      this.logger.debug({ err }, 'webtransport: could not enlarge udp socket buffers');
    }
    const bound = socket.address();
    this.local = { host: bound.address, port: bound.port };
    return this.local;
  }

  /** The bound UDP address. */
  get address(): QuicAddress {
    return this.local;
  }

  /** Handles one received datagram (routing differs between server and client). */
  protected abstract onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void;

  abstract forget(conn: QuicConnection): void;

  schedule(conn: QuicConnection): void {
    if (conn.scheduled) return;
    conn.scheduled = true;
    this.pending.push(conn);
    if (this.immediate === null) this.immediate = setImmediate(this.runPending);
  }

  transmit(conn: QuicConnection): number {
    if (this.closed) return 0;
    const engine = conn.engine;
    const socket = this.dgramSocket;
    let buf = this.sendBuffer;
    let sent = 0;
    for (;;) {
      const length = engine.send(buf);
      if (length === 0) break;
      sent++;
      if (this.connected) {
        socket.send(buf, 0, length);
      } else {
        const to = engine.sendTo;
        socket.send(buf, 0, length, to.port, to.host);
      }
      if (socket.getSendQueueCount() !== 0) buf = this.sendBuffer = Buffer.allocUnsafe(SEND_BUFFER_BYTES);
    }
    return sent;
  }

  /** Sends a stateless packet (Version Negotiation, Retry) built in a scratch buffer. */
  protected sendRaw(bytes: Uint8Array, length: number, to: QuicAddress): void {
    if (this.closed || length <= 0) return;
    if (this.connected) this.dgramSocket.send(bytes, 0, length);
    else this.dgramSocket.send(bytes, 0, length, to.port, to.host);
  }

  /** Closes the socket once every pending datagram left; connections must be closed before. */
  protected closeSocket(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    const socket = this.socket;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
