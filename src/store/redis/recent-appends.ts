/**
 * What this node appended to the Redis store lately: the evidence it has when Redis may have lost
 * data. Redis cannot say what it forgot; a node can check whether the messages it stored (and
 * acknowledged to their senders) are still there. A fixed ring of the last `capacity` appends (log
 * and seq), written on every append without allocating: parallel typed arrays and one array of the
 * log names (references to strings the message already holds).
 */
import type { LogKind } from './keys.js';

/** The appends of one log, as `take` hands them out. */
export interface RecentLog {
  kind: LogKind;
  name: string;
  /** Seqs in append order. */
  seqs: number[];
}

const KIND_USER = 0;
const KIND_TOPIC = 1;

/** A ring of the last `capacity` appends; capacity 0 records nothing. */
export class RecentAppends {
  readonly capacity: number;
  private readonly names: string[];
  private readonly kinds: Uint8Array;
  private readonly seqs: Float64Array;
  /** Next slot to write. */
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    this.capacity = capacity;
    this.names = new Array<string>(capacity).fill('');
    this.kinds = new Uint8Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  /** Appends recorded and not yet taken (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Records one append; the oldest record goes once the ring is full. */
  record(kind: LogKind, name: string, seq: number): void {
    const cap = this.capacity;
    if (cap === 0) return;
    const i = this.head;
    this.names[i] = name;
    this.kinds[i] = kind === 'u' ? KIND_USER : KIND_TOPIC;
    this.seqs[i] = seq;
    this.head = i + 1 === cap ? 0 : i + 1;
    if (this.count < cap) this.count++;
  }

  /**
   * Everything recorded, grouped by log (logs in order of their first record, seqs in append order),
   * and forgets it: an audit counts each append once, however many audits follow.
   */
  take(): RecentLog[] {
    const cap = this.capacity;
    const byLog = new Map<string, RecentLog>();
    let i = (this.head - this.count + cap) % (cap || 1);
    for (let n = 0; n < this.count; n++) {
      const kind: LogKind = this.kinds[i] === KIND_USER ? 'u' : 't';
      const name = this.names[i]!;
      const key = `${kind}:${name}`;
      let log = byLog.get(key);
      if (log === undefined) byLog.set(key, (log = { kind, name, seqs: [] }));
      log.seqs.push(this.seqs[i]!);
      this.names[i] = '';
      i = i + 1 === cap ? 0 : i + 1;
    }
    this.count = 0;
    return [...byLog.values()];
  }
}
