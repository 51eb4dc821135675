/**
 * Reads one stream through a consumer group on a dedicated connection: XREADGROUP ... COUNT n BLOCK ms,
 * hands each batch to a synchronous handler, then XACKs the whole batch with one command. The handler
 * has delivered (queued to the local connections) by the time it returns, so an entry is only acked
 * after its frames were handed over; a crash before the XACK leaves the entry pending, to be read again
 * on restart (this node's own pending entries are read first) or claimed by another node.
 *
 * The XACK goes on the blocking connection, issued in the same tick as the next XREADGROUP, so both
 * leave in one write and Redis runs the ack before the read blocks: at moderate rates, where a batch is
 * often a single entry, that saves a write and a wake-up per batch on the node and on Redis.
 *
 * Redis errors never end the loop: it backs off (50 ms doubling to 2 s) and retries, recreating the
 * group if Redis lost it (NOGROUP after a restart without persistence).
 */
import type { Logger } from '../observability/logger.js';
import { backoffMs, type RedisLink } from './redis-link.js';

/** One stream entry: its id and its field -> value pairs. */
export interface StreamEntry {
  id: string;
  fields: Map<string, Buffer>;
}

/** Constructor options of GroupReader. */
export interface GroupReaderOptions {
  /** A connection of its own: the read blocks it. */
  blocking: RedisLink;
  /** Where XGROUP CREATE goes (the shared connection). */
  link: RedisLink;
  stream: string;
  group: string;
  consumer: string;
  /** Where a newly created group starts: '$' (only new entries) or '0' (everything). */
  createAt: '$' | '0';
  count: number;
  blockMs: number;
  /** Handles a batch synchronously; entries it throws on are still acked (counted by the caller). */
  onEntries: (entries: StreamEntry[]) => void;
  onError: (op: string, err: unknown) => void;
  logger: Logger;
}

/** A consumer-group read loop. start() once; close() stops it. */
export class GroupReader {
  private readonly o: GroupReaderOptions;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  /** Ids handed off and not acked yet: sent with the next read (and again after a failed XACK). */
  private unacked: string[] = [];
  private failures = 0;

  constructor(opts: GroupReaderOptions) {
    this.o = opts;
  }

  /** Creates the group if needed (rejects when Redis refuses), then reads until close(). */
  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  private async ensureGroup(): Promise<void> {
    const { link, stream, group, createAt } = this.o;
    try {
      await link.call(stream, ['XGROUP', 'CREATE', stream, group, createAt, 'MKSTREAM']);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
  }

  private async run(): Promise<void> {
    // First this consumer's own pending entries (read before a crash or restart, never acked), then new.
    let cursor = '0';
    while (this.running) {
      try {
        const entries = await this.read(cursor);
        this.failures = 0;
        if (!this.running) return;
        if (cursor !== '>') {
          if (entries.length === 0) {
            cursor = '>';
            continue;
          }
          cursor = entries[entries.length - 1]!.id;
        }
        if (entries.length > 0) this.handle(entries);
      } catch (err) {
        if (!this.running) return;
        this.o.onError('read', err);
        if (err instanceof Error && err.message.includes('NOGROUP')) {
          await this.ensureGroup().catch(() => undefined);
          cursor = '0';
        }
        await sleep(backoffMs(this.failures++));
      }
    }
  }

  private async read(cursor: string): Promise<StreamEntry[]> {
    const { blocking, stream, group, consumer, count, blockMs } = this.o;
    this.ack();
    const args = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count)];
    if (cursor === '>') args.push('BLOCK', String(blockMs));
    args.push('STREAMS', stream, cursor);
    const reply = await blocking.callBuffers<unknown>(stream, args);
    return parseReadReply(reply);
  }

  private handle(entries: StreamEntry[]): void {
    try {
      this.o.onEntries(entries);
    } catch (err) {
      this.o.logger.error({ err, stream: this.o.stream }, 'stream batch handler failed');
    }
    for (const e of entries) this.unacked.push(e.id);
  }

  /**
   * XACKs what was handed off, on the blocking connection just ahead of the read that follows (same
   * tick, so one write). Ids of a failed XACK are kept and go with the next read's.
   */
  private ack(): void {
    const ids = this.unacked;
    if (ids.length === 0) return;
    this.unacked = [];
    const { blocking, stream, group } = this.o;
    blocking.call(stream, ['XACK', stream, group, ...ids]).catch((err: unknown) => {
      this.o.onError('ack', err);
      this.unacked = ids.concat(this.unacked);
    });
  }

  /**
   * Stops reading and acks what was handed off since the last read (on the shared connection: the
   * blocking one is the caller's to close, which also ends a blocked read).
   */
  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    const ids = this.unacked;
    this.unacked = [];
    if (ids.length === 0) return;
    const { link, stream, group } = this.o;
    await link.call(stream, ['XACK', stream, group, ...ids]).catch((err: unknown) => {
      // Left pending: read again by this node's next start, or claimed by another node.
      this.o.onError('ack', err);
    });
  }
}

/**
 * Entries of a single-stream XREADGROUP/XAUTOCLAIM reply, RESP2 or RESP3 shape: RESP3 gives
 * `{ stream: [[id, [f, v, ...]], ...] }`, RESP2 `[[stream, [[id, [f, v, ...]], ...]]]`; null = none.
 */
export function parseReadReply(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  let list: unknown;
  if (Array.isArray(reply)) list = (reply[0] as unknown[] | undefined)?.[1];
  else if (reply instanceof Map) list = [...reply.values()][0];
  else if (typeof reply === 'object') list = Object.values(reply)[0];
  return parseEntries(list);
}

/** `[[id, [f, v, ...]], ...]` -> entries; deleted entries (null fields) are skipped. */
export function parseEntries(list: unknown): StreamEntry[] {
  if (!Array.isArray(list)) return [];
  const out: StreamEntry[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const id = String(item[0]);
    const raw = item[1];
    const fields = new Map<string, Buffer>();
    if (Array.isArray(raw)) {
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const v = raw[i + 1] as unknown;
        fields.set(String(raw[i]), Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
    out.push({ id, fields });
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
