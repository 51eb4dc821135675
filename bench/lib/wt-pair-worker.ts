/**
 * One load-generator process of bench/webtransport.ts (forked by bench/lib/wt-loadgen.ts), for
 * WebSocket and WebTransport alike. It owns whole pairs (client p and client p + N/2 chat with each
 * other), so sender and receiver of every message share one clock: each message is a Send to the
 * partner whose payload carries the send time, and latency is send → Deliver (the layout of
 * bench/lib/loadgen-worker.ts: [0,8) send time, [8,12) sender index, [12,16) per-sender message
 * number, [16] epoch, filler).
 *
 * `rate` > 0 paces open loop (a 2 ms tick, round-robin); `rate` = 0 is closed loop with `window`
 * messages in flight per sender. With `verify` (QoS 1) every receiver also checks delivery exactly as
 * docs/protocol.md §5.4 tells a client to: a Deliver whose `seq` is not above the last one processed
 * is a duplicate and dropped; what remains must hold every SendAcked message exactly once, in order.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FramePairWorker, FrameClient } from './frame-pair-worker.js';
import { serveWorker } from './ipc.js';
import { grace } from './pacer.js';
import { emptyCounts, type PairCounts } from './pair-stats.js';
import { connectPool, makePairs } from './pairs.js';
import { tokenFor, type TargetKind } from './tokens.js';
import { connectFailureKey } from './wire-conn.js';
import { authenticateConn, openConn, type BenchTransport } from './wt-conn.js';

/** One pair run: transport, target, load shape and how long each stage lasts. */
export interface PairWorkload {
  kind: BenchTransport;
  url: string;
  certHashes: string[];
  /** What the clients authenticate with: Ferry's JWT, or the user id for the bare gateway ('baseline'). */
  target: TargetKind;
  secret: string;
  /** Client pairs (2 connections each). */
  pairs: number;
  /** User ids are `${userPrefix}${index}`: a fresh prefix per run keeps stored messages apart. */
  userPrefix: string;
  payload: number;
  qos: 0 | 1;
  /** Aggregate msg/s; 0 = closed loop. */
  rate: number;
  /** Closed loop: messages in flight per sender. */
  window: number;
  ackEvery: number;
  verify: boolean;
  warmupMs: number;
  durationMs: number;
  /** After the window: nothing is sent; late deliveries (and SendAcks) still count. */
  graceMs: number;
  procs: number;
  connectConcurrency: number;
}

/** Coordinator → worker: this worker's pairs of the workload. */
export interface WorkerInit {
  type: 'init';
  w: PairWorkload;
  pairStart: number;
  pairEnd: number;
  runTag: string;
}

/** Coordinator → worker: go (this worker's share of the rate). */
export interface WorkerStart {
  type: 'start';
  rate: number;
}

/** Worker → coordinator: connected and authenticated. */
export interface WorkerReady {
  type: 'ready';
  connected: number;
  connectFailures: Record<string, number>;
}

/** One worker's counts (pair-stats.ts's, plus verification); the coordinator adds them up. */
export interface PairStats extends PairCounts {
  /** Sends and unique deliveries of every epoch (verification covers the warm-up too). */
  sentTotal: number;
  deliveredTotal: number;
  /** verify: acked messages never delivered; delivered more than once after dedup; out of order. */
  missingAcked: number;
  deliveredTwice: number;
  outOfOrder: number;
  /** Sends never acknowledged by the end of the grace period (QoS 1). */
  unacked: number;
}

/** Worker → coordinator: the run is over. */
export type WorkerDone = { type: 'done' } & PairStats;

class Client extends FrameClient {
  /** verify: per message number of this client as sender, 1 once SendAcked. */
  readonly ackedFlags: number[] = [];
  /** verify: per message number of the partner, how often it was processed after dedup. */
  readonly processed: number[] = [];
}

class PairWorker extends FramePairWorker<Client, PairStats> {
  constructor(private readonly init: WorkerInit) {
    const { w } = init;
    // Acks go out on every housekeeping tick (20 ms) as well as every `ackEvery` deliveries.
    super(
      { ...w, ackIntervalMs: 0, runTag: init.runTag, dedupBySeq: true },
      {
        ...emptyCounts(),
        sentTotal: 0,
        deliveredTotal: 0,
        missingAcked: 0,
        deliveredTwice: 0,
        outOfOrder: 0,
        unacked: 0,
      },
    );
  }

  protected countSend(): void {
    this.stats.sentTotal++;
  }

  protected onSendAck(c: Client, seq: number): void {
    if (this.init.w.verify) c.ackedFlags[seq] = 1;
  }

  protected onProcessed(receiver: Client, msgSeq: number): void {
    if (!this.init.w.verify) return;
    receiver.processed[msgSeq] = (receiver.processed[msgSeq] ?? 0) + 1;
    if (msgSeq !== receiver.expected) this.stats.outOfOrder++;
  }

  protected onUnique(): void {
    this.stats.deliveredTotal++;
  }

  async connectAll(): Promise<WorkerReady> {
    const { w, pairStart, pairEnd } = this.init;
    this.addPairs(
      makePairs(pairStart, pairEnd, w.pairs, (i) => new Client(i, `${w.userPrefix}${i}`)),
      w.kind === 'wt',
    );
    const failures = await connectPool(
      this.clients,
      w.connectConcurrency,
      async (c) => {
        const conn = await openConn(w.kind, w.url, { certHashes: w.certHashes });
        try {
          await authenticateConn(conn, await tokenFor(w.target, c.userId, w.secret));
        } catch (err) {
          conn.terminate();
          throw err;
        }
        this.attach(c, conn);
      },
      connectFailureKey,
    );
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.conn !== null).length,
      connectFailures: failures,
    };
  }

  /** Warm-up, measured window, grace; resolves with the stats. */
  async run(rate: number): Promise<PairStats> {
    const { w } = this.init;
    const stats = this.stats;
    await this.sendWindow(rate, w.warmupMs, w.durationMs);
    await grace(
      w.graceMs,
      () => stats.deliveredTotal >= stats.sentTotal && (w.qos === 0 || stats.ackedTotal >= stats.sentTotal),
      (now) => this.housekeeping(now),
    );
    this.housekeeping(performance.now());
    if (w.verify) this.verifyTally();
    if (w.qos === 1) stats.unacked = stats.sentTotal - stats.ackedTotal;
    return this.tally.finish();
  }

  closeAll(): void {
    for (const c of this.clients) {
      if (c.conn !== null) c.conn.onClose = () => {};
      c.conn?.close();
    }
  }

  /** verify: every acked message processed exactly once. */
  private verifyTally(): void {
    for (const sender of this.clients) {
      const processed = sender.partner.processed;
      for (let seq = 0; seq < sender.nextSeq; seq++) {
        const n = processed[seq] ?? 0;
        if (sender.ackedFlags[seq] === 1 && n === 0) this.stats.missingAcked++;
        if (n > 1) this.stats.deliveredTwice++;
      }
    }
  }
}

/** Entry point of a forked worker. */
export function pairWorkerMain(): void {
  let worker: PairWorker | null = null;
  serveWorker<WorkerInit, WorkerStart>(
    'wt-pair-worker',
    {
      init: (msg) => (worker = new PairWorker(msg)).connectAll(),
      start: async (msg): Promise<WorkerDone> => ({ type: 'done', ...(await worker!.run(msg.rate)) }),
      exit: () => worker?.closeAll(),
    },
    300,
  );
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain && process.argv.includes('--worker')) pairWorkerMain();
