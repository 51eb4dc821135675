/**
 * The `ack-after-replica` durability mode (docs/cluster.md, "Durability modes"): a QoS-1 append is
 * confirmed, and so acked and delivered, only once `WAIT numreplicas timeout` has reported that many
 * replicas holding it. WAIT counts the replicas that acknowledged the replication offset of the
 * calling connection's last write, so it has to run on the connection the append went over, after
 * the append's reply, and only covers the append if that connection did not change in between.
 *
 * Group commit: WAIT blocks its connection until the replicas answer, and it covers every earlier
 * write of the connection, so one WAIT per primary confirms every append whose reply arrived before it
 * was sent. Appends confirmed while a WAIT is out join the next batch, sent when it returns: one WAIT
 * in flight per primary, whatever the message rate.
 *
 * Never a false confirmation: an append is confirmed only when the connection-change counter (see
 * RedisLink.changes) is the same before the append was sent, when the WAIT was sent and when it
 * answered, and its key still maps to the primary its batch went to. Anything else (a reconnect, a
 * Sentinel failover, a Redis Cluster slot move), and a WAIT that counted fewer replicas than asked
 * for within the timeout, fails the append with a StoreError: 107 UNAVAILABLE, retryable. The message
 * is stored all the same; the client's retry with the same client_msg_id is deduplicated and waits
 * for the replicas again (the append script rewrites the dedup key, so that WAIT covers the original).
 */
import { StoreError } from '../../errors.js';

/** Constructor options of ReplicaWait. */
export interface ReplicaWaitOptions {
  /** Replicas that must confirm (WAIT numreplicas), >= 1. */
  replicas: number;
  /** WAIT timeout in ms, >= 1 (0 would mean "forever" to Redis). */
  timeoutMs: number;
  /**
   * Sends `WAIT replicas timeoutMs` on the connection the appends use, to the primary that holds `key`;
   * resolves with the number of replicas that acknowledged.
   */
  wait(key: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Moves whenever a connection the appends use may have changed (RedisLink.changes). */
  changes(): number;
  /** The primary that holds `key` ('' when there is only one): appends to one primary share a WAIT. */
  shardOf(key: string): string;
}

/** Taken right before an append is sent; handed back to `confirm` after its reply. */
export interface ReplicaTicket {
  readonly changes: number;
  readonly shard: string;
}

/** Appends confirmed, refused, and WAITs sent, since the last flush into the metrics. */
export interface ReplicaWaitCounters {
  waits: number;
  confirmed: number;
  /** Fewer replicas than asked for within the timeout. */
  timedOut: number;
  /** The connection changed (or the WAIT failed) before the append was confirmed. */
  interrupted: number;
}

/** The appends of one primary that the next WAIT will confirm. */
interface Batch {
  readonly changes: number;
  /** A key on the primary, to route the WAIT (Redis Cluster), and the primary's name. */
  readonly key: string;
  readonly shard: string;
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: StoreError): void;
  size: number;
}

interface Shard {
  next: Batch | null;
  inflight: boolean;
}

/** Confirms appends on replicas with one WAIT per batch and primary; see the file comment. */
export class ReplicaWait {
  readonly counters: ReplicaWaitCounters = { waits: 0, confirmed: 0, timedOut: 0, interrupted: 0 };
  private readonly o: ReplicaWaitOptions;
  private readonly shards = new Map<string, Shard>();

  constructor(opts: ReplicaWaitOptions) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1)
      throw new RangeError(`replicas must be a positive integer, got ${opts.replicas}`);
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1)
      throw new RangeError(`timeoutMs must be a positive integer, got ${opts.timeoutMs}`);
    this.o = opts;
  }

  /** Call synchronously right before sending the append of `key`. */
  ticket(key: string): ReplicaTicket {
    return { changes: this.o.changes(), shard: this.o.shardOf(key) };
  }

  /**
   * Call once the append's reply arrived. Resolves when a WAIT sent after this call confirmed the
   * replicas; rejects with a StoreError when it cannot be confirmed (see the file comment). Every
   * append of one batch shares one promise.
   */
  confirm(key: string, ticket: ReplicaTicket): Promise<void> {
    if (this.o.changes() !== ticket.changes || this.o.shardOf(key) !== ticket.shard) {
      this.counters.interrupted++;
      return Promise.reject(interrupted());
    }
    let shard = this.shards.get(ticket.shard);
    if (shard === undefined) {
      shard = { next: null, inflight: false };
      this.shards.set(ticket.shard, shard);
    }
    let batch = shard.next;
    // A batch started before a connection change can no longer be confirmed: fail it now.
    if (batch !== null && batch.changes !== ticket.changes) {
      this.fail(batch, interrupted());
      batch = shard.next = null;
    }
    if (batch === null) {
      batch = newBatch(ticket.changes, key, ticket.shard);
      shard.next = batch;
      // After the current microtasks: appends whose replies came in the same read join this WAIT.
      if (!shard.inflight) process.nextTick(() => this.send(shard));
    }
    batch.size++;
    return batch.promise;
  }

  private send(shard: Shard): void {
    const batch = shard.next;
    if (batch === null || shard.inflight) return;
    shard.next = null;
    // The WAIT must reach the primary the appends went to.
    if (this.o.changes() !== batch.changes || this.o.shardOf(batch.key) !== batch.shard) {
      this.fail(batch, interrupted());
      return;
    }
    shard.inflight = true;
    this.counters.waits++;
    const { replicas, timeoutMs } = this.o;
    this.o.wait(batch.key, replicas, timeoutMs).then(
      (acked) => {
        shard.inflight = false;
        if (this.o.changes() !== batch.changes) this.fail(batch, interrupted());
        else if (!(Number(acked) >= replicas)) {
          this.counters.timedOut += batch.size;
          batch.reject(
            new StoreError(
              `stored, but ${Number(acked)} of ${replicas} replica(s) confirmed it within ${timeoutMs} ms`,
            ),
          );
        } else {
          this.counters.confirmed += batch.size;
          batch.resolve();
        }
        this.send(shard);
      },
      (err: unknown) => {
        shard.inflight = false;
        this.fail(batch, interrupted(err));
        this.send(shard);
      },
    );
  }

  private fail(batch: Batch, err: StoreError): void {
    this.counters.interrupted += batch.size;
    batch.reject(err);
  }
}

function newBatch(changes: number, key: string, shard: string): Batch {
  let resolve!: () => void;
  let reject!: (err: StoreError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { changes, key, shard, promise, resolve, reject, size: 0 };
}

function interrupted(cause?: unknown): StoreError {
  return new StoreError(
    'stored, but the Redis connection changed before replicas confirmed it',
    cause === undefined ? undefined : { cause },
  );
}
