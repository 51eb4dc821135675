/**
 * A lossy UDP relay for loopback experiments (this kernel has no `netem`): clients send to the relay's
 * port, the relay forwards each datagram to one target (a QUIC server) and the answers back, dropping
 * a configurable share in each direction and delaying the rest by a fixed time plus random jitter.
 *
 *   client ──► relay :R ──(drop up / delay)──► upstream socket (one per client) ──► target
 *   client ◄── relay :R ◄──(drop down / delay)── upstream socket ◄──────────────────── target
 *
 * Each client address gets its own upstream socket, so the target sees one stable address per client
 * (QUIC address validation and Retry tokens keep working) and answers can be routed back. Drops come
 * from a seeded PRNG, so a run is reproducible. By default delayed datagrams keep their order (a
 * queue, as on a link whose jitter comes from queueing); `reorder: true` delays each datagram
 * independently, like netem's jitter, which reorders.
 *
 * Loopback only: the relay binds 127.0.0.1 and refuses any other target. Memory is bounded: at most
 * `maxClients` upstream sockets (idle ones are closed after `idleMs`) and `maxQueued` datagrams in
 * flight per direction (beyond that they are dropped and counted as overflow).
 */
import dgram from 'node:dgram';

/** Loss and delay of one direction. */
export interface LinkShape {
  /** Share of datagrams dropped, 0..1. */
  drop: number;
  /** Fixed one-way delay, ms. */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs), ms. */
  jitterMs: number;
}

/** Where to relay, how to shape each direction, and the relay's bounds. */
export interface UdpRelayOptions {
  /** The server to relay to (must be 127.0.0.1). */
  targetPort: number;
  targetHost?: string;
  /** Client → server. */
  up?: Partial<LinkShape>;
  /** Server → client. */
  down?: Partial<LinkShape>;
  /** Delay each datagram independently (may reorder) instead of keeping arrival order. */
  reorder?: boolean;
  /** PRNG seed for drops and jitter. */
  seed?: number;
  maxClients?: number;
  maxQueued?: number;
  idleMs?: number;
}

/** Counters of one direction. */
export interface LinkCounters {
  received: number;
  forwarded: number;
  dropped: number;
  /** Dropped because `maxQueued` datagrams were already waiting. */
  overflow: number;
  bytes: number;
  /** Most datagrams waiting at once. */
  maxQueued: number;
}

/** Both directions' counters, and how many client addresses the relay has seen (or refused). */
export interface RelayCounters {
  up: LinkCounters;
  down: LinkCounters;
  clients: number;
  /** Clients refused because `maxClients` upstream sockets were open. */
  refusedClients: number;
}

const NO_SHAPE: LinkShape = { drop: 0, delayMs: 0, jitterMs: 0 };

/** mulberry32: a small, fast, seedable PRNG with good enough statistics for drop decisions. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function emptyCounters(): LinkCounters {
  return { received: 0, forwarded: 0, dropped: 0, overflow: 0, bytes: 0, maxQueued: 0 };
}

/**
 * One direction of the relay: decides drop or delay for each datagram and sends it when due. In
 * order-keeping mode the queue is FIFO with non-decreasing due times, so one timer (for the head)
 * serves the whole queue.
 */
class Link {
  readonly counters = emptyCounters();
  private readonly queue: { due: number; bytes: Buffer; send: (b: Buffer) => void }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private lastDue = 0;
  private closed = false;

  constructor(
    private readonly shape: LinkShape,
    private readonly random: () => number,
    private readonly reorder: boolean,
    private readonly maxQueued: number,
  ) {}

  push(bytes: Buffer, send: (b: Buffer) => void): void {
    const c = this.counters;
    c.received++;
    if (this.closed) return;
    if (this.shape.drop > 0 && this.random() < this.shape.drop) {
      c.dropped++;
      return;
    }
    const delay = this.shape.delayMs + (this.shape.jitterMs > 0 ? this.random() * this.shape.jitterMs : 0);
    if (delay <= 0 && this.inFlight === 0) {
      this.forward(bytes, send);
      return;
    }
    if (this.inFlight >= this.maxQueued) {
      c.overflow++;
      return;
    }
    this.inFlight++;
    if (this.inFlight > c.maxQueued) c.maxQueued = this.inFlight;
    // dgram hands us a buffer it will not reuse, so keeping it without a copy is safe.
    if (this.reorder) {
      setTimeout(() => {
        this.inFlight--;
        if (!this.closed) this.forward(bytes, send);
      }, delay);
      return;
    }
    const due = Math.max(performance.now() + delay, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, bytes, send });
    if (this.timer === null) this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.head = 0;
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (next === undefined) return;
    this.timer = setTimeout(this.flush, Math.max(0, next.due - performance.now()));
  }

  private readonly flush = (): void => {
    this.timer = null;
    const now = performance.now();
    // Timers fire up to ~1 ms late; send everything due by now (and within 0.5 ms) in one pass.
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now + 0.5) {
      const item = this.queue[this.head++]!;
      this.inFlight--;
      this.forward(item.bytes, item.send);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!this.closed) this.arm();
  };

  private forward(bytes: Buffer, send: (b: Buffer) => void): void {
    this.counters.forwarded++;
    this.counters.bytes += bytes.length;
    send(bytes);
  }
}

/** Per-client state: the upstream socket the target sees as this client. */
interface Peer {
  address: string;
  port: number;
  upstream: dgram.Socket;
  lastActive: number;
}

/** See the file comment. */
export class UdpRelay {
  private readonly socket = dgram.createSocket('udp4');
  private readonly peers = new Map<string, Peer>();
  private readonly up: Link;
  private readonly down: Link;
  private readonly targetHost: string;
  private readonly maxClients: number;
  private readonly idleMs: number;
  private sweeper: NodeJS.Timeout | null = null;
  private refusedClients = 0;
  private clientsSeen = 0;
  private closed = false;

  constructor(private readonly opts: UdpRelayOptions) {
    this.targetHost = opts.targetHost ?? '127.0.0.1';
    if (this.targetHost !== '127.0.0.1') throw new Error('UdpRelay relays to 127.0.0.1 only');
    const random = mulberry32(opts.seed ?? 1);
    const maxQueued = opts.maxQueued ?? 100_000;
    this.up = new Link({ ...NO_SHAPE, ...opts.up }, random, opts.reorder === true, maxQueued);
    this.down = new Link({ ...NO_SHAPE, ...opts.down }, random, opts.reorder === true, maxQueued);
    this.maxClients = opts.maxClients ?? 1024;
    this.idleMs = opts.idleMs ?? 120_000;
    this.socket.on('message', (msg, rinfo) => this.relayOnClientMessage(msg, rinfo));
    this.socket.on('error', () => {});
  }

  /** Binds 127.0.0.1 (`port` 0 = any free port); resolves with the port clients should use. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: '127.0.0.1', port, exclusive: true }, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    trySetBuffers(this.socket);
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 10_000));
    this.sweeper.unref();
    return this.socket.address().port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** A snapshot of the counters. */
  counters(): RelayCounters {
    return {
      up: { ...this.up.counters },
      down: { ...this.down.counters },
      clients: this.clientsSeen,
      refusedClients: this.refusedClients,
    };
  }

  /** Closes every socket and drops what is still delayed. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.up.close();
    this.down.close();
    const sockets = [this.socket, ...[...this.peers.values()].map((p) => p.upstream)];
    this.peers.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => closeQuietly(s, resolve))));
  }

  private relayOnClientMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let peer = this.peers.get(key);
    if (peer === undefined) {
      if (this.peers.size >= this.maxClients) {
        this.refusedClients++;
        return;
      }
      peer = this.openPeer(key, rinfo.address, rinfo.port);
    }
    peer.lastActive = performance.now();
    const upstream = peer.upstream;
    this.up.push(msg, (b) => upstream.send(b, this.opts.targetPort, this.targetHost));
  }

  private openPeer(key: string, address: string, port: number): Peer {
    const upstream = dgram.createSocket('udp4');
    const peer: Peer = { address, port, upstream, lastActive: performance.now() };
    this.peers.set(key, peer);
    this.clientsSeen++;
    upstream.on('error', () => {});
    upstream.on('message', (msg) => {
      if (this.closed) return;
      peer.lastActive = performance.now();
      this.down.push(msg, (b) => this.socket.send(b, peer.port, peer.address));
    });
    // Sending before bind() binds implicitly; bind explicitly to loopback so nothing leaves the host.
    upstream.bind({ address: '127.0.0.1', port: 0 }, () => trySetBuffers(upstream));
    return peer;
  }

  private sweep(): void {
    const cutoff = performance.now() - this.idleMs;
    for (const [key, peer] of this.peers) {
      if (peer.lastActive < cutoff) {
        this.peers.delete(key);
        closeQuietly(peer.upstream, () => {});
      }
    }
  }
}

function trySetBuffers(socket: dgram.Socket): void {
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // The kernel cap (net.core.rmem_max) applies; the defaults still work at bench rates.
  }
}

function closeQuietly(socket: dgram.Socket, done: () => void): void {
  try {
    socket.close(done);
  } catch {
    done();
  }
}
