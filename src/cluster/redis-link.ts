/**
 * One connection (standalone), connection set (Redis Cluster) or primary found through Redis Sentinel,
 * created from the `redis` config section, behind a narrow interface the cluster code uses: one raw
 * command routed by its first key, pub/sub, and duplicates for blocking reads (a blocked XREADGROUP
 * would hold up every command queued behind it on a shared connection). Every Redis use of a node
 * goes through a link, so with Sentinel every one of them follows the primary through a failover.
 *
 * Failure policy: reconnect with exponential backoff and jitter, forever; commands issued while
 * disconnected fail at once (`disableOfflineQueue`) instead of waiting, so a QoS-1 send gets a
 * retryable 107 rather than an ack for a write that may never happen. Errors are logged at most once
 * per second per link (a down Redis would otherwise log on every retry) and all are counted.
 */
import { createClient, createCluster, createSentinel, RESP_TYPES, type RedisArgument } from 'redis';
import type { Logger } from '../observability/logger.js';

/** Where and how to connect. */
export interface RedisLinkOptions {
  /** `redis://host:port` for one Redis; '' when `cluster` is set. */
  url: string;
  /** Redis Cluster seed nodes as `host:port`; empty for a single Redis. */
  cluster: string[];
  /** Redis Sentinel addresses as `host:port`; empty unless the primary is found through Sentinel. */
  sentinel?: string[];
  /** With `sentinel`: the name the sentinels monitor the primary under. */
  masterName?: string;
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
type AnySentinel = ReturnType<typeof createSentinel>;

/** Client events after which a later command may run on another connection than an earlier one. */
const CHANGE_EVENTS = ['connect', 'ready', 'end', 'error', 'reconnecting'];
const CLUSTER_CHANGE_EVENTS = [
  'node-connect',
  'node-ready',
  'node-disconnect',
  'node-error',
  'node-reconnecting',
];

/**
 * How often a Sentinel link asks the sentinels for the topology even without an event: node-redis
 * follows `+switch-master` and friends at once, and this catches a primary demoted behind a
 * connection that stayed open (its writes fail READONLY until then).
 */
const SENTINEL_SCAN_MS = 5000;

/** A standalone, Sentinel or cluster connection with one calling convention. */
export class RedisLink {
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  private readonly opts: RedisLinkOptions;
  private readonly client: AnyClient | null;
  private readonly clusterClient: AnyCluster | null;
  private readonly sentinelClient: AnySentinel | null = null;
  private lastLogMs = 0;
  private closed = false;
  private epoch = 0;
  private readonly changeListeners = new Set<() => void>();

  private constructor(opts: RedisLinkOptions) {
    this.opts = opts;
    const socket = { reconnectStrategy: (retries: number) => backoffMs(retries), connectTimeout: 5000 };
    const onError = (err: unknown): void => this.reportError(err);
    // node-redis arms a 5 s AbortSignal.timeout per command by default: a timer, listeners and, when it
    // fires after the reply, a DOMException. Profiled at ~10% of a cluster node's CPU. Commands fail at
    // once when the connection is down (no offline queue) and a lost connection is detected by the
    // socket, so no per-command timer is kept.
    const commandOptions = { timeout: 0 };
    const bump = (): void => {
      this.epoch++;
      for (const listener of [...this.changeListeners]) listener();
    };
    if (opts.sentinel !== undefined && opts.sentinel.length > 0) {
      this.mode = 'sentinel';
      this.client = this.clusterClient = null;
      this.sentinelClient = createSentinel({
        name: opts.masterName ?? '',
        sentinelRootNodes: opts.sentinel.map(hostPort),
        nodeClientOptions: { socket, disableOfflineQueue: true, name: opts.name },
        sentinelClientOptions: { socket: { connectTimeout: socket.connectTimeout } },
        commandOptions,
        // Fail at once while no primary is reachable, as the other modes do. With retries node-redis
        // would send a command that failed in flight again to the next primary (a second XADD, a
        // second append without client_msg_id) and park every command for the whole failover.
        maxCommandRediscovers: 0,
        // One primary connection per link, so commands keep their order (the store's EVALSHA and
        // WAIT rely on it) and blocking reads stay on the duplicate made for them.
        reserveClient: true,
        scanInterval: SENTINEL_SCAN_MS,
      });
      this.sentinelClient.on('error', onError);
      // Only what touches the primary's connection moves the epoch: a sentinel that does not answer a
      // topology check (plain 'error') changes nothing for the commands in flight.
      this.sentinelClient.on('client-error', (e: { type: string; error: Error }) => {
        if (e.type === 'MASTER') bump();
        this.reportError(e.error);
      });
      this.sentinelClient.on('topology-change', (e: { type: string }) => {
        if (e.type === 'MASTER_CHANGE') bump();
      });
      for (const e of ['connect', 'ready', 'end', 'reconnecting']) this.sentinelClient.on(e, bump);
    } else if (opts.cluster.length > 0) {
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
      for (const e of CLUSTER_CHANGE_EVENTS) this.clusterClient.on(e, bump);
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
      for (const e of CHANGE_EVENTS) this.client.on(e, bump);
    }
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
   * Standalone and Sentinel: a number that changes whenever the connection may have changed
   * (connects, errors, reconnects, a new primary), so a caller can tell that state it set up on the
   * server side of one connection (a loaded script) may be gone. Undefined for a cluster, whose
   * connections come and go per shard (see `changes`).
   */
  get connectionEpoch(): (() => number) | undefined {
    return this.clusterClient === null ? () => this.epoch : undefined;
  }

  /**
   * Like connectionEpoch, in every mode: with Redis Cluster it moves on any shard's connection event.
   * Equal values before a command was sent and after a later command's reply mean both went over the
   * same connection(s): what WAIT needs to cover the writes before it. A changed value also means the
   * server behind the link may be another one (a restarted or promoted Redis): the data guard checks.
   */
  get changes(): number {
    return this.epoch;
  }

  /**
   * The Redis Cluster slot of `key`; 0 for a single primary, where the keys of one command may be
   * anywhere (the store groups its appends into one call by this value).
   */
  slotOf(key: string): number {
    return this.clusterClient === null ? 0 : hashSlot(key);
  }

  /**
   * Calls `listener` after each connection event that moves `changes` (connects, readiness, errors,
   * reconnects, a new primary): the moments `isReady` may have changed. Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => void this.changeListeners.delete(listener);
  }

  /**
   * The primary that `key` lives on, as a name: '' for a single primary (standalone, Sentinel); with
   * Redis Cluster the address of the slot's master in the client's current slot map.
   */
  shardOf(key: string): string {
    if (this.clusterClient === null) return '';
    return this.clusterClient.slots[hashSlot(key)]?.master.address ?? '';
  }

  /**
   * Connects; rejects when Redis cannot be reached at start (a node configured for a cluster must not
   * come up alone: it would accept QoS-1 messages it cannot store).
   */
  static async connect(opts: RedisLinkOptions): Promise<RedisLink> {
    const link = new RedisLink(opts);
    try {
      if (link.client) await link.client.connect();
      else if (link.sentinelClient) await link.sentinelClient.connect();
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
  get native(): AnyClient | AnyCluster | AnySentinel {
    return (this.client ?? this.sentinelClient ?? this.clusterClient)!;
  }

  /**
   * True while commands can be sent (every cluster master connected, for a cluster; a connected
   * primary, for Sentinel).
   */
  get isReady(): boolean {
    if (this.client) return this.client.isReady;
    if (this.sentinelClient)
      return this.sentinelClient.isReady && this.sentinelClient.getMasterNode() !== undefined;
    const masters = this.clusterClient!.masters;
    return masters.length > 0 && masters.every((m) => m.client?.isReady === true);
  }

  /** One command, routed by `key` in a cluster (undefined = any node). Bulk strings as strings. */
  call<T>(key: string | undefined, args: RedisArgument[]): Promise<T> {
    if (this.client) return this.client.sendCommand<T>(args);
    if (this.sentinelClient) return this.sentinelClient.sendCommand<T>(false, args);
    return this.clusterClient!.sendCommand<T>(key, false, args);
  }

  /** Like `call`, with bulk strings as Buffers (stream entries). */
  callBuffers<T>(key: string | undefined, args: RedisArgument[]): Promise<T> {
    if (this.client) return this.client.sendCommand<T>(args, BUFFERS);
    if (this.sentinelClient) return this.sentinelClient.sendCommand<T>(false, args, BUFFERS);
    return this.clusterClient!.sendCommand<T>(key, false, args, BUFFERS);
  }

  /** One command on every primary (one for standalone and Sentinel), for configuration checks. */
  async callEachPrimary<T>(args: RedisArgument[]): Promise<T[]> {
    if (this.clusterClient === null) return [await this.call<T>(undefined, args)];
    const cluster = this.clusterClient;
    return Promise.all(cluster.masters.map(async (m) => (await cluster.nodeClient(m)).sendCommand<T>(args)));
  }

  /**
   * Subscribes to a channel; messages arrive as strings. Re-subscribed by the client after reconnects
   * (and on the new primary after a Sentinel failover).
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    if (this.client) await this.client.subscribe(channel, listener);
    else if (this.sentinelClient) await this.sentinelClient.subscribe(channel, listener);
    else await this.clusterClient!.subscribe(channel, listener);
  }

  /** QUIT-style close: waits for replies to commands already sent. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.client) await this.client.close();
      else if (this.sentinelClient) await this.sentinelClient.close();
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
      else if (this.sentinelClient) this.sentinelClient.destroy().catch(() => undefined);
      else this.clusterClient!.destroy();
    } catch {
      // already closed
    }
  }

  /** node-redis's Sentinel client also reports some errors as plain strings. */
  private reportError(reported: unknown): void {
    const err = reported instanceof Error ? reported : new Error(String(reported));
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
    // The last three come from Sentinel: during a failover, and from a primary that was demoted.
    /ECONNREFUSED|ECONNRESET|EPIPE|closed|offline|CLUSTERDOWN|LOADING|TRYAGAIN|no valid master|sentinels are available|READONLY/i.test(
      err.message,
    )
  );
}

/** `host:port` (as the config validated it) -> node-redis's node address. */
function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/**
 * The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag (the part inside the first `{...}`
 * when non-empty) or of the whole key, modulo 16384 (Redis Cluster specification, "Keys distribution
 * model").
 */
export function hashSlot(key: string): number {
  const bytes = Buffer.from(key);
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) [from, to] = [open + 1, close];
  }
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= bytes[i]! << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
