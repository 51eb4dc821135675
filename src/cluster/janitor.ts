/**
 * Periodic cluster housekeeping, run by every node (each step is safe to run concurrently on many):
 *  1. take over the inboxes of dead nodes: entries nobody read (XREADGROUP as this node) and entries
 *     the dead node read but never acked, once idle `claimIdleMs` (XAUTOCLAIM), are re-routed to where
 *     their users are now and acked; an inbox with nothing left is deleted with the dead node's
 *     broadcast group and registry entry;
 *  2. trim this node's inbox and the broadcast stream up to the oldest entry some consumer group still
 *     needs (XTRIM MINID ~: never past an unread or unacked entry);
 *  3. sample lag and pending counts for the metrics.
 */
import type { Envelope } from '../bus/bus.js';
import type { Logger } from '../observability/logger.js';
import { decodeBatch, ITEM_USER } from './envelope-codec.js';
import { parseEntries, parseReadReply, type StreamEntry } from './group-reader.js';
import { INBOX_GROUP, type ClusterKeys } from './keys.js';
import type { NodeLiveness } from './node-liveness.js';
import type { RedisLink } from './redis-link.js';

/** Constructor options of ClusterJanitor. */
export interface ClusterJanitorOptions {
  link: RedisLink;
  keys: ClusterKeys;
  nodeId: string;
  liveness: NodeLiveness;
  /** Re-routes one user message taken over from a dead node (the Redis bus's reroute). */
  reroute: (env: Envelope) => Promise<void>;
  claimIdleMs: number;
  batch: number;
  intervalMs: number;
  logger: Logger;
  onError: (op: string, err: unknown) => void;
}

/** Lag and pending entries of this node's groups, from the last round. */
export interface StreamSample {
  inboxLag: number;
  inboxPending: number;
  broadcastLag: number;
  broadcastPending: number;
}

interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  lag: number | null;
}

/** Runs the housekeeping every `intervalMs` until stop(). */
export class ClusterJanitor {
  private readonly o: ClusterJanitorOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Entries taken over from dead nodes since the last metrics flush. */
  reclaimed = 0;
  readonly sample: StreamSample = { inboxLag: 0, inboxPending: 0, broadcastLag: 0, broadcastPending: 0 };

  constructor(opts: ClusterJanitorOptions) {
    this.o = opts;
  }

  start(): void {
    // Jitter, so the nodes of a cluster started together do not all scan at the same moment.
    const every = Math.round(this.o.intervalMs * (0.9 + Math.random() * 0.2));
    this.timer = setInterval(() => void this.runOnce(), every);
    this.timer.unref();
  }

  /** One round (skipped while the previous one still runs). Never rejects. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      const others = (await this.o.liveness.registered()).filter((n) => n !== this.o.nodeId);
      const alive = await this.o.liveness.aliveOf(others);
      for (const node of others) {
        if (this.stopped) return;
        if (!alive.has(node)) await this.takeOver(node);
      }
      await this.trimAndSample();
    } catch (err) {
      this.o.onError('janitor', err);
    }
  }

  /** Moves a dead node's inbox entries to where their users are; forgets the node when none are left. */
  async takeOver(dead: string): Promise<void> {
    const { link, keys, nodeId, claimIdleMs, batch } = this.o;
    const stream = keys.inbox(dead);
    for (let round = 0; round < 20 && !this.stopped; round++) {
      let unread: StreamEntry[];
      try {
        unread = parseReadReply(
          await link.callBuffers(stream, [
            'XREADGROUP',
            'GROUP',
            INBOX_GROUP,
            nodeId,
            'COUNT',
            String(batch),
            'STREAMS',
            stream,
            '>',
          ]),
        );
      } catch (err) {
        if (err instanceof Error && err.message.includes('NOGROUP')) {
          await this.forget(dead);
          return;
        }
        throw err;
      }
      const claimedReply = await link.callBuffers<unknown[]>(stream, [
        'XAUTOCLAIM',
        stream,
        INBOX_GROUP,
        nodeId,
        String(claimIdleMs),
        '0-0',
        'COUNT',
        String(batch),
      ]);
      const claimed = parseEntries(claimedReply?.[1]);
      const entries = [...unread, ...claimed];
      if (entries.length === 0) {
        const group = (await this.groups(stream)).find((g) => g.name === INBOX_GROUP);
        if (group === undefined || (group.pending === 0 && group.lag === 0)) await this.forget(dead);
        return;
      }
      await Promise.all(entries.map((e) => this.reroute(e)));
      await link.call(stream, ['XACK', stream, INBOX_GROUP, ...entries.map((e) => e.id)]);
      this.reclaimed += entries.length;
      this.o.logger.info({ dead, entries: entries.length }, "re-routed entries from a dead node's inbox");
    }
  }

  private async reroute(entry: StreamEntry): Promise<void> {
    const body = entry.fields.get('b');
    if (body === undefined) return;
    let items;
    try {
      items = decodeBatch(body);
    } catch (err) {
      this.o.logger.error({ err, id: entry.id }, 'dropping a malformed entry of a dead inbox');
      return;
    }
    for (const item of items) if (item.kind === ITEM_USER) await this.o.reroute(item.env);
  }

  private async forget(dead: string): Promise<void> {
    const { link, keys } = this.o;
    const bstream = keys.broadcast();
    await link.call(keys.inbox(dead), ['DEL', keys.inbox(dead)]);
    await link
      .call(bstream, ['XGROUP', 'DESTROY', bstream, keys.broadcastGroup(dead)])
      .catch(() => undefined); // no broadcast stream yet
    await this.o.liveness.forget(dead);
    this.o.logger.info({ dead }, 'dead node cleaned up');
  }

  private async trimAndSample(): Promise<void> {
    const { keys, nodeId } = this.o;
    const inbox = keys.inbox(nodeId);
    const inboxGroups = await this.groups(inbox);
    await this.trim(inbox, inboxGroups);
    const own = inboxGroups.find((g) => g.name === INBOX_GROUP);
    this.sample.inboxLag = own?.lag ?? 0;
    this.sample.inboxPending = own?.pending ?? 0;
    const bstream = keys.broadcast();
    const bgroups = await this.groups(bstream);
    await this.trim(bstream, bgroups);
    const mine = bgroups.find((g) => g.name === keys.broadcastGroup(nodeId));
    this.sample.broadcastLag = mine?.lag ?? 0;
    this.sample.broadcastPending = mine?.pending ?? 0;
  }

  /** Trims `stream` below the oldest entry any group still needs (its oldest pending, or next unread). */
  private async trim(stream: string, groups: GroupInfo[]): Promise<void> {
    if (groups.length === 0) return;
    const { link } = this.o;
    let min: string | null = null;
    for (const g of groups) {
      let need = nextId(g.lastDeliveredId);
      if (g.pending > 0) {
        const summary = await link.call<unknown[]>(stream, ['XPENDING', stream, g.name]);
        if (typeof summary?.[1] === 'string') need = summary[1];
      }
      if (min === null || compareIds(need, min) < 0) min = need;
    }
    if (min !== null && min !== '0-1') await link.call(stream, ['XTRIM', stream, 'MINID', '~', min]);
  }

  private async groups(stream: string): Promise<GroupInfo[]> {
    let reply: unknown;
    try {
      reply = await this.o.link.call<unknown>(stream, ['XINFO', 'GROUPS', stream]);
    } catch (err) {
      if (err instanceof Error && /no such key/i.test(err.message)) return [];
      throw err;
    }
    if (!Array.isArray(reply)) return [];
    return reply.map((g: unknown) => {
      const m = toRecord(g);
      const lag = m.lag;
      return {
        name: String(m.name),
        pending: Number(m.pending ?? 0),
        lastDeliveredId: String(m['last-delivered-id'] ?? '0-0'),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
  }

  /** Stops the timer and waits for a running round. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

/** RESP3 maps arrive as objects (or Maps), RESP2 as flat [k, v, ...] arrays. */
function toRecord(v: unknown): Record<string, unknown> {
  if (v instanceof Map) return Object.fromEntries(v) as Record<string, unknown>;
  if (Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < v.length; i += 2) out[String(v[i])] = v[i + 1];
    return out;
  }
  return (v ?? {}) as Record<string, unknown>;
}

/** The smallest stream id greater than `id` ("ms-seq"). */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms ?? '0'}-${BigInt(seq ?? '0') + 1n}`;
}

/** Orders stream ids numerically. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map((x) => BigInt(x));
  const [bm, bs] = b.split('-').map((x) => BigInt(x));
  if (am !== bm) return am! < bm! ? -1 : 1;
  if (as === bs) return 0;
  return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
}
