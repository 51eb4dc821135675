/**
 * Which gateway nodes are alive. Each node keeps a key `{node:<id>}:alive` with a TTL and refreshes
 * it every TTL/3, and records itself in the `{cluster}:nodes` registry so that others can find its
 * inbox after it dies. A node whose key has expired is dead: its presence entries are ignored and
 * cleaned, and its inbox is claimed by the janitor (janitor.ts).
 *
 * An expired key only means "dead" when Redis itself was fine: during a Redis outage or restart every
 * node's key can expire, and judging others then would delete live nodes' inboxes and presence.
 * So after this node sees trouble (a failed heartbeat, or its own key gone) it judges nobody dead for
 * two TTLs, time for every live node to write its key again.
 */
import type { Logger } from '../observability/logger.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis-link.js';

/** Constructor options of NodeLiveness. */
export interface NodeLivenessOptions {
  link: RedisLink;
  keys: ClusterKeys;
  nodeId: string;
  ttlMs: number;
  logger: Logger;
  onError: (op: string, err: unknown) => void;
  /**
   * Called when a heartbeat finds this node's own key gone (it expired while Redis was unreachable,
   * or Redis lost it): other nodes may have treated this node as dead meanwhile and deleted its
   * presence entries, so they must be written again.
   */
  onRevived?: () => void;
  /** Clock of the grace period and the cache, injectable for tests. Default Date.now. */
  now?: () => number;
}

/** How long a look-up of other nodes' liveness is reused. */
const CACHE_MS = 1000;

/** This node's heartbeat, and a cached view of the other nodes' liveness. */
export class NodeLiveness {
  private readonly o: NodeLivenessOptions;
  private timer: NodeJS.Timeout | null = null;
  private readonly cache = new Map<string, { alive: boolean; atMs: number }>();
  /** When this node last saw Redis trouble (0 = never). */
  private troubleAtMs = 0;
  private readonly now: () => number;

  constructor(opts: NodeLivenessOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Writes the liveness key and registry entry, then keeps them fresh. Rejects if Redis refuses. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(
      () => {
        this.beat().catch((err: unknown) => {
          this.noteTrouble();
          this.o.onError('liveness', err);
        });
      },
      Math.max(100, Math.floor(this.o.ttlMs / 3)),
    );
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const { link, keys, nodeId, ttlMs } = this.o;
    const alive = keys.alive(nodeId);
    const [previous] = await Promise.all([
      link.call<string | null>(alive, ['SET', alive, String(Date.now()), 'PX', String(ttlMs), 'GET']),
      link.call(keys.nodes(), ['ZADD', keys.nodes(), String(Date.now()), nodeId]),
    ]);
    if (previous === null && this.timer !== null) {
      this.noteTrouble();
      this.o.logger.warn('liveness key had expired (Redis unreachable?); re-asserting presence');
      this.o.onRevived?.();
    }
  }

  /**
   * Liveness of each of `nodeIds` (this node always counts as alive), from a one-second cache; one
   * pipelined EXISTS per node not cached.
   */
  async aliveOf(nodeIds: Iterable<string>): Promise<Set<string>> {
    const now = this.now();
    if (this.inGrace(now)) return new Set(nodeIds);
    const alive = new Set<string>();
    const ask: string[] = [];
    for (const id of nodeIds) {
      if (id === this.o.nodeId) {
        alive.add(id);
        continue;
      }
      const c = this.cache.get(id);
      if (c !== undefined && now - c.atMs < CACHE_MS) {
        if (c.alive) alive.add(id);
      } else if (!ask.includes(id)) ask.push(id);
    }
    if (ask.length > 0) {
      const { link, keys } = this.o;
      const found = await Promise.all(
        ask.map((id) => link.call<number>(keys.alive(id), ['EXISTS', keys.alive(id)])),
      );
      ask.forEach((id, i) => {
        const isAlive = found[i] === 1;
        this.cache.set(id, { alive: isAlive, atMs: now });
        if (isAlive) alive.add(id);
      });
    }
    return alive;
  }

  /** True when `nodeId`'s liveness key is missing right now (no cache); refreshes the cache. */
  async confirmedDead(nodeId: string): Promise<boolean> {
    if (nodeId === this.o.nodeId || this.inGrace(this.now())) return false;
    const { link, keys } = this.o;
    const exists = await link.call<number>(keys.alive(nodeId), ['EXISTS', keys.alive(nodeId)]);
    this.cache.set(nodeId, { alive: exists === 1, atMs: this.now() });
    return exists !== 1;
  }

  /** Redis misbehaved: nobody is judged dead for a while (see the file comment). */
  noteTrouble(): void {
    this.troubleAtMs = this.now();
    this.cache.clear();
  }

  private inGrace(now: number): boolean {
    return this.troubleAtMs !== 0 && now - this.troubleAtMs < 2 * this.o.ttlMs;
  }

  /** Every node in the registry (alive or not). */
  async registered(): Promise<string[]> {
    const { link, keys } = this.o;
    return link.call<string[]>(keys.nodes(), ['ZRANGE', keys.nodes(), '0', '-1']);
  }

  /** Drops a dead node from the registry once nothing of it is left to claim. */
  async forget(nodeId: string): Promise<void> {
    const { link, keys } = this.o;
    await link.call(keys.nodes(), ['ZREM', keys.nodes(), nodeId]);
  }

  /**
   * Stops the heartbeat. With `announce` (a graceful stop) the liveness key is deleted, so others
   * treat this node as gone at once instead of after the TTL. Idempotent.
   */
  async stop(announce: boolean): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (!announce) return;
    const { link, keys, nodeId } = this.o;
    await link.call(keys.alive(nodeId), ['DEL', keys.alive(nodeId)]).catch(() => undefined);
  }
}
