/**
 * One load-generator process (forked by bench/loadgen.ts). It owns whole pairs of clients, so the
 * sender and the receiver of every message share one clock: latency is performance.now() at delivery
 * minus the performance.now() the sender wrote into the payload.
 *
 * Workload: pair p = (client p, client p + N/2). Both clients of a pair send to each other
 * (bidirectional 1:1 chat), each message a Send to the partner user, QoS 0 or 1.
 *
 * Payload layout (little endian): [0,8) float64 send time, [8,12) sender index, [12,16) per-sender
 * message number, [16] epoch (0 = warm-up, 1 = measured), then filler up to the payload size.
 *
 * Pacing: `rate` > 0 is open loop (a 2 ms tick sends what is due, round-robin over the clients);
 * `rate` = 0 is closed loop: each sender keeps `window` messages in flight (sent, not yet delivered),
 * which measures the maximum sustained rate.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { FramePairWorker, FrameClient } from './frame-pair-worker.js';
import { pairSlice, request, serveWorker } from './ipc.js';
import { grace } from './pacer.js';
import { emptyCounts, type PairCounts } from './pair-stats.js';
import { connectPool, makePairs } from './pairs.js';
import { tokenFor, type TargetKind } from './tokens.js';
import { WireConn, authenticate, connectFailureKey } from './wire-conn.js';

/** What the coordinator sends to set a worker up. */
export interface WorkerInit {
  type: 'init';
  url: string;
  target: TargetKind;
  secret: string;
  /** Total clients over all workers (even). */
  clients: number;
  /**
   * Where the second client of each pair (p + clients/2) connects; default `url`. Another node's URL
   * makes every message cross nodes (bench/cluster.ts).
   */
  partnerUrl?: string;
  /** User ids are `${userPrefix}${index}` (default `u`): a fresh prefix per run keeps runs apart. */
  userPrefix?: string;
  /** This worker's pairs: [pairStart, pairEnd), pair p = clients p and p + clients/2. */
  pairStart: number;
  pairEnd: number;
  payload: number;
  qos: 0 | 1;
  window: number;
  /** QoS 1: the receiver acks after this many deliveries, or after `ackIntervalMs`, whichever first. */
  ackEvery: number;
  ackIntervalMs: number;
  /** Source addresses to spread the connections over (empty = the kernel's choice). */
  localAddresses: string[];
  connectConcurrency: number;
  runTag: string;
  /** Senders wait out a retryable Error's `retry_after_ms`, as the SDK does (frame-pair-worker.ts). */
  honorRetryAfter?: boolean;
  /**
   * QoS 0 without a per-message answer: Ferry and the minimal forward send with request id 0 (no
   * SendAck, docs/protocol.md §5.3), the Socket.IO generator emits without an ack callback.
   */
  noAck?: boolean;
  /** Socket.IO generator: bare `ws` speaking the wire protocol (default) or socket.io-client. */
  sioClient?: 'raw' | 'socket.io-client';
}

export interface WorkerStart {
  type: 'start';
  /** This worker's share of the aggregate rate, msg/s; 0 = closed loop (max rate). */
  rate: number;
  warmupMs: number;
  durationMs: number;
  graceMs: number;
}

export interface WorkerReady {
  type: 'ready';
  connected: number;
  connectFailures: Record<string, number>;
  connectMs: number;
}

/** Worker → coordinator: the run is over (the counts of pair-stats.ts, plus warm-up sends). */
export interface WorkerStats extends PairCounts {
  type: 'done';
  sentWarmup: number;
}

/** Coordinator side: starts every worker on its share of `rate`; one promise of stats per worker. */
export function startWorkers(
  workers: ChildProcess[],
  pairs: number,
  rate: number,
  t: { warmupS: number; durationS: number; graceS: number },
): Promise<WorkerStats>[] {
  return workers.map((child, k) => {
    const start: WorkerStart = {
      type: 'start',
      rate: pairSlice(k, workers.length, pairs, rate).rate,
      warmupMs: t.warmupS * 1000,
      durationMs: t.durationS * 1000,
      graceMs: t.graceS * 1000,
    };
    return request<WorkerStats>(child, start, 'done');
  });
}

class Worker extends FramePairWorker<FrameClient, WorkerStats> {
  constructor(private readonly init: WorkerInit) {
    super({ ...init, dedupBySeq: false }, { ...emptyCounts(), type: 'done', sentWarmup: 0 });
  }

  protected countSend(epoch: number): void {
    if (epoch !== 1) this.stats.sentWarmup++;
  }

  async connectAll(): Promise<WorkerReady> {
    const { clients: n, pairStart, pairEnd } = this.init;
    const half = n / 2;
    const prefix = this.init.userPrefix ?? 'u';
    const pairs = makePairs(pairStart, pairEnd, half, (i) => new FrameClient(i, `${prefix}${i}`));
    this.addPairs(pairs, this.init.url.startsWith('tcp://'));
    const t0 = performance.now();
    const addrs = this.init.localAddresses;
    const failures = await connectPool(
      this.clients,
      this.init.connectConcurrency,
      async (c) => {
        const localAddress = addrs.length > 0 ? addrs[c.index % addrs.length] : undefined;
        const url = c.index >= half ? (this.init.partnerUrl ?? this.init.url) : this.init.url;
        const conn = await WireConn.connect(url, localAddress ? { localAddress } : {});
        await authenticate(conn, await tokenFor(this.init.target, c.userId, this.init.secret));
        this.attach(c, conn);
      },
      connectFailureKey,
    );
    return {
      type: 'ready',
      connected: this.clients.filter((c) => c.conn !== null).length,
      connectFailures: failures,
      connectMs: performance.now() - t0,
    };
  }

  /** Runs warm-up + measured window + grace; resolves with the stats. */
  async run(start: WorkerStart): Promise<WorkerStats> {
    const stats = this.stats;
    await this.sendWindow(start.rate, start.warmupMs, start.durationMs);
    await grace(
      start.graceMs,
      () =>
        stats.delivered >= stats.sent &&
        (this.init.qos === 0 || this.init.noAck === true || stats.acked >= stats.sent),
      (now) => this.housekeeping(now),
    );
    this.housekeeping(performance.now(), true);
    return this.tally.finish();
  }

  closeAll(): void {
    for (const c of this.clients) c.conn?.close();
  }
}

/** Entry point when forked: obeys init/start/exit messages from the coordinator. */
export function workerMain(): void {
  let worker: Worker | null = null;
  serveWorker<WorkerInit, WorkerStart>('loadgen-worker', {
    init: (msg) => (worker = new Worker(msg)).connectAll(),
    start: (msg) => worker!.run(msg),
    exit: () => worker?.closeAll(),
  });
}
