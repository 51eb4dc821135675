/**
 * Group commit for the store's appends: the appends of one event-loop turn that may share a script
 * call (same group: one Redis Cluster slot, or everything on a standalone Redis) go in one call, and a
 * group has one call in flight at a time. What is appended while a call is out waits and goes in the
 * next, sent when the reply arrives: under load one round trip and one script invocation carry many
 * appends, while an idle group still sends at once. Redis runs the appends of a call in queue order,
 * and the calls of a group one after another on one connection, so a log's appends keep the order in
 * which `add` was called (docs/cluster.md, "Order").
 */

/** How an AppendBatcher sends and what it needs to know about its items. */
export interface AppendBatcherOptions<T> {
  /**
   * Sends `items` (at least one, in `add` order) as one call and settles each of them. Resolves once
   * the call's reply is in (the next call of the group is sent then), whatever it said; must not reject.
   */
  send(items: T[]): Promise<void>;
  /** Most items in one call: bounds how long one script holds Redis. */
  maxBatch: number;
}

interface Group<T> {
  readonly key: string | number;
  queue: T[];
  inflight: boolean;
}

/** See the file comment. */
export class AppendBatcher<T> {
  private readonly groups = new Map<string | number, Group<T>>();
  /** Groups with queued items and no call in flight, sent at the end of this turn. */
  private ready = new Set<Group<T>>();
  private scheduled = false;
  private readonly flush = (): void => this.flushReady();

  constructor(private readonly o: AppendBatcherOptions<T>) {
    if (!(o.maxBatch >= 1)) throw new RangeError(`maxBatch must be >= 1, got ${o.maxBatch}`);
  }

  /** Queues `item` in `group`; it is sent at the end of this turn or after the group's call in flight. */
  add(group: string | number, item: T): void {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = { key: group, queue: [], inflight: false };
      this.groups.set(group, g);
    }
    g.queue.push(item);
    if (g.inflight) return;
    this.ready.add(g);
    if (!this.scheduled) {
      this.scheduled = true;
      // After every I/O callback of this loop turn: what the turn's reads appended shares a call.
      setImmediate(this.flush);
    }
  }

  private flushReady(): void {
    this.scheduled = false;
    const ready = this.ready;
    this.ready = new Set();
    for (const g of ready) this.sendNext(g);
  }

  private sendNext(g: Group<T>): void {
    const n = Math.min(g.queue.length, this.o.maxBatch);
    if (n === 0) {
      // Idle groups are forgotten: a group per log (the default grouping) would otherwise pile up.
      this.groups.delete(g.key);
      return;
    }
    const items = n === g.queue.length ? g.queue : g.queue.slice(0, n);
    g.queue = n === g.queue.length ? [] : g.queue.slice(n);
    g.inflight = true;
    const next = (): void => this.sendNext(g);
    // `send` settles its items itself; a rejection still must not leave the group stuck in flight.
    this.o.send(items).then(next, next);
  }
}
