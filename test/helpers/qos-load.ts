/**
 * The fault harness: a steady QoS-1 load of sender -> receiver pairs spread over real gateway nodes,
 * driven through Ferry's own client SDK (Node entry), so what it counts is what an application sees:
 * the SDK re-sends its outbox with the same clientMsgId, resumes with last_seq and drops seqs it has
 * processed. A fault test starts a load, breaks something, marks when the fault is over, finishes
 * the load and judges the tally:
 *
 *   const load = await QosLoad.start({ nodes: [n1.urls, n2.urls], pairs: 8, ratePerPair: 40, prefix: 'f1' });
 *   await load.ackedAtLeast(200);           // the load runs
 *   ... break and repair something ...
 *   const after = load.mark();              // messages sent from now on must all arrive
 *   await load.ackedAtLeast(load.acked + 200);
 *   const tally = await load.finish();      // stop, wait for every ack and every pair's last message
 *   console.log(load.line());               // acked=N delivered=N lost=N duplicated=N reordered=N
 *   expect(load.lostSentAfter(after)).to.deep.equal([]);
 *
 * Counts: acked = sends whose SendAck arrived; delivered = distinct (sender, clientMsgId) the
 * receiving application got; lost = acked and never delivered; duplicated = deliveries of a
 * (sender, clientMsgId) the application had already got; reordered = deliveries of a message sent
 * before one its pair had already delivered.
 */
import {
  connect,
  type Endpoints,
  type FerryClient,
  type Message,
  type OpenInfo,
} from '../../client/src/node.js';
import { testToken } from './gateway-process.js';
import { TIME_FACTOR } from './time-factor.js';

/** Where a node's client listeners are (GatewayProcess.urls fits). */
export interface LoadNode {
  ws: string;
  tcp: string;
}

/** How to run the load. */
export interface QosLoadOptions {
  /**
   * The nodes. Pair i sends from node i (mod n) over WebSocket and receives on node i+1 (mod n) over
   * TCP, so with two nodes every message crosses nodes; each client knows every node and moves on
   * when its own goes away.
   */
  nodes: LoadNode[];
  pairs: number;
  /** Messages per second each sender starts. */
  ratePerPair: number;
  /** Unacknowledged sends a sender may have before it waits. Default 50. */
  maxPending?: number;
  /** User ids are `<prefix>-s<i>` and `<prefix>-r<i>`. */
  prefix: string;
}

/** The application's view of a load, in counts. */
export interface Tally {
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/** One message of the load. */
export interface LoadMessage {
  pair: number;
  /** Send order within its pair, from 0. */
  k: number;
  clientMsgId: string;
  /** How many marks had been set when it was sent, and when its SendAck arrived (-1: not acked). */
  sentMark: number;
  ackMark: number;
  /** Its seq in the recipient's log, from the SendAck (0 until acked). */
  seq: number;
  /** Times the receiving application got it. */
  deliveries: number;
}

/** A message as the harness tracks it. */
interface Sent extends LoadMessage {
  /** Settles when the send did (acked, or failed for good). */
  sending: Promise<void>;
}

interface Pair {
  index: number;
  sender: FerryClient;
  /** Null while taken offline (`receiverOffline`). */
  receiver: FerryClient | null;
  /** The receiver's last processed seq when it went offline, its resume point. */
  lastSeq: number;
  paused: boolean;
  sent: Sent[];
  pending: number;
  /** Highest k delivered so far (reordering), -1 = none. */
  maxK: number;
  timer: NodeJS.Timeout | null;
  /** Resolves when the pair's closing message reaches the receiver. */
  ended: Promise<void>;
  endReceived: () => void;
}

const END = 'end';
/** Reconnect quickly: the faults last seconds. */
const CLIENT_TIMERS = { backoff: { initialMs: 50, maxMs: 500 }, transportTimeoutMs: 2000 };

/** A running QoS-1 load; see the file comment. */
export class QosLoad {
  /** Sends acknowledged so far. */
  acked = 0;
  /** Sends started so far (acknowledged or not). */
  sent = 0;
  private marks = 0;
  private reorderedCount = 0;
  private readonly pairs: Pair[] = [];
  private readonly errors: string[] = [];
  private ackWaiters: Array<{ n: number; resolve: () => void }> = [];
  private sendWaiters: Array<{ n: number; resolve: () => void }> = [];
  private stopped = false;

  private constructor(private readonly opts: QosLoadOptions) {}

  /** Connects every pair (receivers first, so nothing is sent to a user not yet listening) and starts sending. */
  static async start(opts: QosLoadOptions): Promise<QosLoad> {
    const load = new QosLoad(opts);
    try {
      for (let i = 0; i < opts.pairs; i++) load.pairs.push(await load.connectPair(i));
    } catch (err) {
      await load.close();
      throw err;
    }
    for (const p of load.pairs) load.startSending(p);
    return load;
  }

  /** Sets a mark and returns its number (1, 2, ...): messages sent from now on carry it. */
  mark(): number {
    return ++this.marks;
  }

  /** Resolves once at least `n` sends have been acknowledged in total. */
  ackedAtLeast(n: number, timeoutMs = 30_000 * TIME_FACTOR): Promise<void> {
    if (this.acked >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { n, resolve };
      this.ackWaiters.push(waiter);
      setTimeout(() => {
        if (!this.ackWaiters.includes(waiter)) return;
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        reject(new Error(`only ${this.acked} of ${n} sends acknowledged within ${timeoutMs} ms`));
      }, timeoutMs).unref();
    });
  }

  /**
   * Resolves once at least `n` sends have been started in total, acknowledged or not (for faults
   * during which nothing is acknowledged; each sender still stops at `maxPending`).
   */
  sentAtLeast(n: number, timeoutMs = 30_000 * TIME_FACTOR): Promise<void> {
    if (this.sent >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { n, resolve };
      this.sendWaiters.push(waiter);
      setTimeout(() => {
        if (!this.sendWaiters.includes(waiter)) return;
        this.sendWaiters = this.sendWaiters.filter((w) => w !== waiter);
        reject(new Error(`only ${this.sent} of ${n} sends started within ${timeoutMs} ms`));
      }, timeoutMs).unref();
    });
  }

  /**
   * Stops sending, waits until every send is acknowledged, then sends one last message per pair and
   * waits until each arrived: deliveries of a pair come in seq order, so whatever was stored before
   * it has been delivered by then, and the tally is final.
   */
  async finish(timeoutMs = 60_000 * TIME_FACTOR): Promise<Tally> {
    this.stopped = true;
    for (const p of this.pairs) if (p.timer !== null) clearInterval(p.timer);
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`load not settled within ${timeoutMs} ms: ${this.line()}`)),
        timeoutMs,
      ).unref(),
    );
    await Promise.race([
      deadline,
      Promise.all(
        this.pairs.map(async (p) => {
          await Promise.all(p.sent.map((m) => m.sending));
          await p.sender.send(this.receiverOf(p.index), END, {
            clientMsgId: `${this.opts.prefix}-${p.index}-end`,
          });
          await p.ended;
        }),
      ),
    ]);
    if (this.errors.length > 0) throw new Error(`load errors: ${this.errors.slice(0, 5).join('; ')}`);
    return this.tally();
  }

  /** The counts so far (final after `finish`). */
  tally(): Tally {
    let acked = 0;
    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    for (const p of this.pairs) {
      for (const m of p.sent) {
        if (m.ackMark >= 0) acked++;
        if (m.deliveries > 0) delivered++;
        if (m.ackMark >= 0 && m.deliveries === 0) lost++;
        if (m.deliveries > 1) duplicated += m.deliveries - 1;
      }
    }
    return { acked, delivered, lost, duplicated, reordered: this.reorderedCount };
  }

  /** The tally as one line, as every fault test prints it. */
  line(): string {
    const t = this.tally();
    return `acked=${t.acked} delivered=${t.delivered} lost=${t.lost} duplicated=${t.duplicated} reordered=${t.reordered}`;
  }

  /** Acknowledged messages never delivered. */
  lost(): LoadMessage[] {
    return this.pairs.flatMap((p) => p.sent.filter((m) => m.ackMark >= 0 && m.deliveries === 0));
  }

  /** Acknowledged messages sent after mark `mark` was set that were never delivered. */
  lostSentAfter(mark: number): LoadMessage[] {
    return this.lost().filter((m) => m.sentMark >= mark);
  }

  /** Stops pair `i`'s sender from starting new messages (its pending ones go on). */
  pauseSender(i: number): void {
    this.pairs[i]!.paused = true;
  }

  resumeSender(i: number): void {
    this.pairs[i]!.paused = false;
  }

  /** Closes pair `i`'s receiver (a device going offline); it remembers its last processed seq. */
  async receiverOffline(i: number): Promise<void> {
    const p = this.pairs[i]!;
    const r = p.receiver;
    p.receiver = null;
    if (r === null) return;
    await r.close();
    p.lastSeq = r.lastSeq;
  }

  /** Connects pair `i`'s receiver again with its last processed seq; resolves with the connection's facts. */
  async receiverOnline(i: number): Promise<OpenInfo> {
    const p = this.pairs[i]!;
    p.receiver = await this.connectReceiver(p);
    return p.receiver.connection!;
  }

  /** Closes every client. Idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const p of this.pairs) if (p.timer !== null) clearInterval(p.timer);
    await Promise.all(this.pairs.flatMap((p) => [p.sender.close(), p.receiver?.close()]));
  }

  private receiverOf(i: number): string {
    return `${this.opts.prefix}-r${i}`;
  }

  private async connectPair(i: number): Promise<Pair> {
    let endReceived!: () => void;
    const ended = new Promise<void>((r) => (endReceived = r));
    const pair: Pair = {
      index: i,
      sent: [],
      pending: 0,
      maxK: -1,
      timer: null,
      ended,
      endReceived,
      lastSeq: 0,
      paused: false,
      receiver: null,
      sender: await connect({
        ...CLIENT_TIMERS,
        endpoints: this.endpoints(i, 'ws'),
        token: await testToken(`${this.opts.prefix}-s${i}`, { ttlSeconds: 3600 }),
        deviceId: 'load',
      }),
    };
    pair.receiver = await this.connectReceiver(pair);
    return pair;
  }

  private async connectReceiver(p: Pair): Promise<FerryClient> {
    return connect({
      ...CLIENT_TIMERS,
      endpoints: this.endpoints(p.index + 1, 'tcp'),
      token: await testToken(this.receiverOf(p.index), { ttlSeconds: 3600 }),
      deviceId: 'load',
      lastSeq: p.lastSeq,
      on: { message: (m) => this.onMessage(p, m) },
    });
  }

  /** Every node, starting with node `first` (mod n), offering one transport. */
  private endpoints(first: number, kind: 'ws' | 'tcp'): Endpoints[] {
    const nodes = this.opts.nodes;
    return nodes.map((_, j) => ({ [kind]: nodes[(first + j) % nodes.length]![kind] }));
  }

  private startSending(p: Pair): void {
    const maxPending = this.opts.maxPending ?? 50;
    p.timer = setInterval(() => {
      if (this.stopped || p.paused || p.pending >= maxPending) return;
      this.sendNext(p);
    }, 1000 / this.opts.ratePerPair);
  }

  private sendNext(p: Pair): void {
    const k = p.sent.length;
    const clientMsgId = `${this.opts.prefix}-${p.index}-${k}`;
    const sending = p.sender.send(this.receiverOf(p.index), JSON.stringify({ k }), { clientMsgId });
    const m: Sent = {
      pair: p.index,
      k,
      clientMsgId,
      sentMark: this.marks,
      ackMark: -1,
      seq: 0,
      deliveries: 0,
      sending: Promise.resolve(),
    };
    p.sent.push(m);
    p.pending++;
    this.sent++;
    this.sendWaiters = this.sendWaiters.filter((w) => (this.sent >= w.n ? (w.resolve(), false) : true));
    m.sending = sending.then(
      (r) => {
        p.pending--;
        m.ackMark = this.marks;
        m.seq = r.seq;
        this.acked++;
        this.ackWaiters = this.ackWaiters.filter((w) => (this.acked >= w.n ? (w.resolve(), false) : true));
      },
      (err: unknown) => {
        p.pending--;
        this.errors.push(`${clientMsgId}: ${String(err)}`);
      },
    );
  }

  private onMessage(p: Pair, msg: Message): void {
    const text = Buffer.from(msg.payload).toString();
    if (text === END) {
      p.endReceived();
      return;
    }
    let k: number;
    try {
      k = (JSON.parse(text) as { k: number }).k;
    } catch {
      this.errors.push(`pair ${p.index}: unreadable payload ${JSON.stringify(text)}`);
      return;
    }
    const m = p.sent[k];
    if (m === undefined || msg.clientMsgId !== m.clientMsgId) {
      this.errors.push(`pair ${p.index}: message ${k} (${msg.clientMsgId}) was never sent`);
      return;
    }
    m.deliveries++;
    if (m.deliveries > 1) return;
    if (k < p.maxK) this.reorderedCount++;
    else p.maxK = k;
  }
}
