/**
 * One connection (standalone) or connection set (Redis Cluster) to Redis, created from the `redis`
 * config section, behind a narrow interface the cluster code uses: one raw command routed by its
 * first key, pub/sub, and duplicates for blocking reads (a blocked XREADGROUP would hold up every
 * command queued behind it on a shared connection).
 *
 * Failure policy: reconnect with exponential backoff and jitter, forever; commands issued while
 * disconnected fail at once (`disableOfflineQueue`) instead of waiting, so a QoS-1 send gets a
 * retryable 107 rather than an ack for a write that may never happen. Errors are logged at most once
 * per second per link (a down Redis would otherwise log on every retry) and all are counted.
 */
import { createClient, createCluster, RESP_TYPES, type RedisArgument } from 'redis';
import type { Logger } from '../observability/logger.js';

/** Where and how to connect. */
export interface RedisLinkOptions {
  /** `redis://host:port` for one Redis; '' when `cluster` is set. */
  url: string;
  /** Redis Cluster seed nodes as `host:port`; empty for a single Redis. */
  cluster: string[];
  /** Connection name shown by CLIENT LIST (node id and role). */
  name: string;
  logger: Logger;
  /** Called for every error the client reports (for the Redis error counter). */
  onError?: (err: Error) => void;
}

/** Raw reply with bulk strings as Buffers (stream payloads are binary). */
const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 2000;

/** Reconnect delay: 50 ms doubling to 2 s, plus up to 25% jitter so nodes do not retry in step. */
export function backoffMs(retries: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(retries, 10));
  return Math.round(base + Math.random() * base * 0.25);
}

// The node-redis client types are deeply generic; this module only needs the runtime shape.
type AnyClient = ReturnType<typeof createClient>;
type AnyCluster = ReturnType<typeof createCluster>;

/** A standalone or cluster connection with one calling convention. */
export class RedisLink {
  readonly mode: 'standalone' | 'cluster';
  private readonly opts: RedisLinkOptions;
  private readonly client: AnyClient | null;
  private readonly clusterClient: AnyCluster | null;
  private lastLogMs = 0;
  private closed = false;
  private epoch = 0;
  /** Bumped by every connection event of any connection of `native` (see `changes`). */
  private changeCount = 0;

  private constructor(opts: RedisLinkOptions) {
    this.opts = opts;
    const socket = { reconnectStrategy: (retries: number) => backoffMs(retries), connectTimeout: 5000 };
    const onError = (err: Error): void => this.reportError(err);
    // node-redis arms a 5 s AbortSignal.timeout per command by default: a timer, listeners and, when it
    // fires after the reply, a DOMException. Profiled at ~10% of a cluster node's CPU. Commands fail at
    // once when the connection is down (no offline queue) and a lost connection is detected by the
    // socket, so no per-command timer is kept.
    const commandOptions = { timeout: 0 };
    if (opts.cluster.length > 0) {
      this.mode = 'cluster';
      this.client = null;
      this.clusterClient = createCluster({
        rootNodes: opts.cluster.map((hp) => ({ url: `redis://${hp}` })),
        defaults: { socket, disableOfflineQueue: true, name: opts.name },
        commandOptions,
        // Slot moves are followed by the client; refresh the map at most this often on MOVED storms.
        minimizeConnections: false,
      });
      this.clusterClient.on('error', onError);
      const changed = (): void => void this.changeCount++;
      for (const e of ['node-connect', 'node-ready', 'node-disconnect', 'node-error', 'node-reconnecting'])
        this.clusterClient.on(e, changed);
    } else {
      this.mode = 'standalone';
      this.clusterClient = null;
      this.client = createClient({
        url: opts.url,
        socket,
        disableOfflineQueue: true,
        name: opts.name,
        commandOptions,
      });
      this.client.on('error', onError);
      // Anything that can mean a different connection moves the epoch (see connectionEpoch).
      const bump = (): void => {
        this.epoch++;
        this.changeCount++;
      };
      for (const e of ['connect', 'ready', 'end', 'error', 'reconnecting']) this.client.on(e, bump);
    }
  }

  /**
   * A number that changes whenever any connection of `native` may have changed (standalone: as
   * `connectionEpoch`; a cluster: any node's connect, ready, disconnect, error or reconnect), so a
   * caller can tell that the server behind it may be another one: a restarted or promoted Redis.
   */
  get changes(): number {
    return this.changeCount;
  }

  /**
   * Cluster: for each slot the address of the master serving it, as the client's slot map has it
   * (undefined where none does). Null for a single Redis.
   */
  slotMasters(): (string | undefined)[] | null {
    if (this.clusterClient === null) return null;
    return this.clusterClient.slots.map((shard) => shard?.master?.address);
  }

  /**
   * Standalone: a number that changes whenever the connection may have changed (connects, errors,
   * reconnects), so a caller can tell that state it set up on the server side of one connection (a
   * loaded script) may be gone. Undefined for a cluster, whose connections come and go per shard.
   */
  get connectionEpoch(): (() => number) | undefined {
    return this.client !== null ? () => this.epoch : undefined;
  }

  /**
   * Connects; rejects when Redis cannot be reached at start (a node configured for a cluster must not
   * come up alone: it would accept QoS-1 messages it cannot store).
   */
  static async connect(opts: RedisLinkOptions): Promise<RedisLink> {
    const link = new RedisLink(opts);
    try {
      if (link.client) await link.client.connect();
      else await link.clusterClient!.connect();
    } catch (err) {
      link.destroy();
      throw err;
    }
    return link;
  }

  /** Another link to the same Redis with its own connection(s), for blocking commands or pub/sub. */
  duplicate(role: string): Promise<RedisLink> {
    return RedisLink.connect({ ...this.opts, name: `${this.opts.name}-${role}` });
  }

  /** The node-redis client, for components that use its command API (the Redis message store). */
  get native(): AnyClient | AnyCluster {
    return (this.client ?? this.clusterClient)!;
  }

  /** True while commands can be sent (every cluster master connected, for a cluster). */
  get isReady(): boolean {
    if (this.client) return this.client.isReady;
    const masters = this.clusterClient!.masters;
    return masters.length > 0 && masters.every((m) => m.client?.isReady === true);
  }

  /** One command, routed by `key` in a cluster (undefined = any node). Bulk strings as strings. */
  call<T>(key: string | undefined, args: RedisArgument[]): Promise<T> {
    if (this.client) return this.client.sendCommand<T>(args);
    return this.clusterClient!.sendCommand<T>(key, false, args);
  }

  /** Like `call`, with bulk strings as Buffers (stream entries). */
  callBuffers<T>(key: string | undefined, args: RedisArgument[]): Promise<T> {
    if (this.client) return this.client.sendCommand<T>(args, BUFFERS);
    return this.clusterClient!.sendCommand<T>(key, false, args, BUFFERS);
  }

  /** Subscribes to a channel; messages arrive as strings. Re-subscribed by the client after reconnects. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    if (this.client) await this.client.subscribe(channel, listener);
    else await this.clusterClient!.subscribe(channel, listener);
  }

  /** QUIT-style close: waits for replies to commands already sent. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.client) await this.client.close();
      else await this.clusterClient!.close();
    } catch {
      this.destroy();
    }
  }

  /** Drops the connection(s) at once; pending commands reject. Idempotent. */
  destroy(): void {
    this.closed = true;
    try {
      if (this.client) this.client.destroy();
      else this.clusterClient!.destroy();
    } catch {
      // already closed
    }
  }

  private reportError(err: Error): void {
    this.opts.onError?.(err);
    const now = Date.now();
    if (now - this.lastLogMs < 1000) return;
    this.lastLogMs = now;
    this.opts.logger.warn({ err: err.message, link: this.opts.name }, 'redis connection error; retrying');
  }
}

/** True for errors that mean "Redis is not reachable right now" (as opposed to a bad command). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.constructor.name;
  return (
    name === 'ClientOfflineError' ||
    name === 'ClientClosedError' ||
    name === 'SocketClosedUnexpectedlyError' ||
    name === 'ConnectionTimeoutError' ||
    /ECONNREFUSED|ECONNRESET|EPIPE|closed|offline|CLUSTERDOWN|LOADING|TRYAGAIN/i.test(err.message)
  );
}
