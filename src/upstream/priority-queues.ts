/**
 * Four bounded FIFO queues, one per priority (critical, high, normal, low). `offer` refuses once a
 * priority's queue is at its bound: the caller turns that into a retryable BUSY for the client, so
 * overload is pushed back to the edge instead of growing memory or dropping messages silently.
 * `take` drains strictly by priority (critical first): a flood of low-priority traffic cannot delay a
 * critical message by more than one batch.
 */
import { PRIORITIES, type Priority } from './route-table.js';

/** Bounds per priority (max messages waiting). */
export type QueueBounds = Record<Priority, number>;

const RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };

/** A FIFO with an advancing head (shift() on large arrays is O(n)). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T; // let it be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** The queues of one service. */
export class PriorityQueues<T extends { readonly priority: Priority }> {
  private readonly queues = PRIORITIES.map(() => new Fifo<T>());
  private bounds: QueueBounds;
  private total = 0;

  constructor(bounds: QueueBounds) {
    this.bounds = { ...bounds };
  }

  /** Messages waiting, over all priorities. */
  get size(): number {
    return this.total;
  }

  /** Messages waiting at one priority. */
  depth(priority: Priority): number {
    return this.queues[RANK[priority]]!.length;
  }

  /** New bounds (reload); messages already queued beyond a lowered bound stay and drain. */
  setBounds(bounds: QueueBounds): void {
    this.bounds = { ...bounds };
  }

  /** Appends, or returns false when the priority's queue is full. */
  offer(item: T): boolean {
    const q = this.queues[RANK[item.priority]]!;
    if (q.length >= this.bounds[item.priority]) return false;
    q.push(item);
    this.total++;
    return true;
  }

  /**
   * Puts back a message that was already accepted (a retry), ahead of its priority's queue and past
   * the bound: refusing it now would lose a message the client was told is on its way.
   */
  requeue(item: T): void {
    this.queues[RANK[item.priority]]!.unshift(item);
    this.total++;
  }

  /** Takes up to `max` messages, most urgent first, FIFO within a priority. */
  take(max: number): T[] {
    const out: T[] = [];
    for (const q of this.queues) {
      while (out.length < max) {
        const item = q.shift();
        if (item === undefined) break;
        out.push(item);
      }
      if (out.length >= max) break;
    }
    this.total -= out.length;
    return out;
  }
}
