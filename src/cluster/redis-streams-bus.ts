/**
 * The Bus over Redis Streams (docs/cluster.md). Every publish is first handed to this node's handler
 * (local recipients get it without a Redis round trip, and still get it while Redis is down); then:
 *  - a user message goes to the inbox stream of every other live node holding the user, found through
 *    presence (cached for QoS 0, read fresh for QoS 1, usually by the store's append itself);
 *  - a topic or control message goes to the broadcast stream, which every node reads through its own
 *    consumer group (a node skips the entries it wrote itself).
 * Items published to the same stream in one event-loop turn travel as one entry (one XADD, one XACK;
 * envelope-codec.ts), so the per-message cost is an encode and a share of a round trip.
 */
import type { Bus, BusHandler, ControlMessage, Envelope } from '../bus/bus.js';
import { BusUnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { decodeBatch, encodeItem, ITEM_CONTROL, ITEM_TOPIC, ITEM_USER } from './envelope-codec.js';
import { GroupReader, type StreamEntry } from './group-reader.js';
import { INBOX_GROUP, type ClusterKeys } from './keys.js';
import type { RedisLink } from './redis-link.js';
import type { RedisPresence } from './redis-presence.js';

/** Constructor options of RedisStreamsBus. */
export interface RedisStreamsBusOptions {
  link: RedisLink;
  keys: ClusterKeys;
  nodeId: string;
  presence: RedisPresence;
  readBatch: number;
  /** How long one XREADGROUP blocks; bounds how long close() waits for a reader. */
  blockMs: number;
  /** Approximate MAXLEN on every XADD, 0 = none: an opt-in safety cap (docs/cluster.md, "Trimming"). */
  streamMaxLen: number;
  /** Stored (QoS-1) messages whose forward failed, kept for a retry once Redis answers again. */
  maxRetained?: number;
  logger: Logger;
  onError: (op: string, err: unknown) => void;
}

/** Items moved, as plain numbers (flushed into Prometheus by the cluster sampler). */
export interface BusCounters {
  out: number;
  in: number;
  badEntries: number;
  handlerErrors: number;
  /** QoS-1 forwards that failed and were sent again later. */
  reforwarded: number;
  /** QoS-1 forwards given up because too many were waiting (recipients catch up from the store). */
  retainDropped: number;
}

interface OutBatch {
  parts: Buffer[];
  items: number;
  /** Bytes of `parts`, counted in the bus's backlog until the XADD carrying them settles. */
  bytes: number;
  /**
   * An inbox is only ever created by its owner (with its group): NOMKSTREAM, so a write racing the
   * clean-up of a dead node's inbox cannot leave a stream that no group reads.
   */
  inbox: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Waiter {
  env: Envelope;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const DEFAULT_MAX_RETAINED = 100_000;
const RETAIN_FIRST_DELAY_MS = 500;
const RETAIN_MAX_DELAY_MS = 5_000;
/** What a message waiting for its presence look-up counts in the backlog beside its payload. */
const WAITER_OVERHEAD_BYTES = 128;
const FIELD_ORIGIN = 'o';
const FIELD_BATCH = 'b';

/** A Bus whose nodes meet in Redis. */
export class RedisStreamsBus implements Bus {
  readonly name = 'redis-streams';
  readonly counters: BusCounters = {
    out: 0,
    in: 0,
    badEntries: 0,
    handlerErrors: 0,
    reforwarded: 0,
    retainDropped: 0,
  };
  private readonly o: RedisStreamsBusOptions;
  private handler: BusHandler | undefined;
  private state: 'new' | 'started' | 'closed' = 'new';
  private readers: GroupReader[] = [];
  private blockingLinks: RedisLink[] = [];
  private outbox = new Map<string, OutBatch>();
  private flushScheduled = false;
  /**
   * XADDs in flight, and what close() waits on until they settle. A count, not a Set of promises: a
   * Set that grows and shrinks by one per XADD reallocates its table each time, and those tables
   * outlived young-generation collections (about 1 MiB of promoted garbage per 9 s per node at
   * 5,000 msg/s, bench/RESULTS.md).
   */
  private inflightXadds = 0;
  private onXaddsSettled: (() => void) | null = null;
  /**
   * Streams with an XADD in flight. A stream gets one XADD at a time: what is published meanwhile
   * waits and goes in the next one, so under load a single round trip carries many messages (at
   * moderate rates almost every message arrives in an event-loop turn of its own, and per-turn
   * batching alone would cost one XADD per message), while an idle stream still sends at once.
   */
  private readonly sending = new Set<string>();
  /** Per user: messages waiting for a presence look-up, in publish order. */
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly flush = (): void => this.flushOutbox();
  /**
   * Stored messages whose forward failed (Redis unreachable). A recipient on another node would only
   * see them at its next seq gap or reconnect, so they are forwarded again once Redis answers.
   */
  private retained: Envelope[] = [];
  private retainTimer: NodeJS.Timeout | null = null;
  private retainDelayMs = RETAIN_FIRST_DELAY_MS;
  /** Bytes queued in the outbox, in XADDs in flight and waiting for presence (see `backlogBytes`). */
  private backlog = 0;

  constructor(opts: RedisStreamsBusOptions) {
    this.o = opts;
  }

  /** Creates this node's consumer groups and starts reading its inbox and the broadcast stream. */
  async start(handler: BusHandler): Promise<void> {
    if (this.state !== 'new') throw unavailable(`cannot start: already ${this.state}`);
    this.handler = handler;
    const { link, keys, nodeId, readBatch, blockMs, logger } = this.o;
    const onError = this.o.onError;
    try {
      const [inboxLink, broadcastLink] = await Promise.all([
        link.duplicate('inbox'),
        link.duplicate('broadcast'),
      ]);
      this.blockingLinks = [inboxLink, broadcastLink];
      const common = { link, consumer: nodeId, count: readBatch, blockMs, onError, logger };
      this.readers = [
        new GroupReader({
          ...common,
          blocking: inboxLink,
          stream: keys.inbox(nodeId),
          group: INBOX_GROUP,
          createAt: '0',
          onEntries: (entries) => this.onInbox(entries),
        }),
        new GroupReader({
          ...common,
          blocking: broadcastLink,
          stream: keys.broadcast(),
          group: keys.broadcastGroup(nodeId),
          // A new node has no sessions that older broadcasts could concern.
          createAt: '$',
          onEntries: (entries) => this.onBroadcast(entries),
        }),
      ];
      await Promise.all(this.readers.map((r) => r.start()));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.state = 'started';
  }

  publishToUser(env: Envelope): Promise<void> {
    if (this.state !== 'started') return Promise.reject(this.notStarted());
    this.deliverLocal(ITEM_USER, env);
    const routed = this.routeUser(env);
    if (env.qos === 1) routed.catch(() => this.retain(env));
    return routed;
  }

  /** Forwards a user message to the other nodes holding its user (presence cached for QoS 0 only). */
  private routeUser(env: Envelope): Promise<void> {
    const user = env.toUser;
    if (env.qos === 0 && !this.waiting.has(user)) {
      const nodes = this.o.presence.cachedNodes(user);
      if (nodes !== undefined) return this.forward(env, nodes);
    }
    this.backlog += waiterBytes(env);
    return new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(user);
      if (list !== undefined) list.push({ env, resolve, reject });
      else {
        this.waiting.set(user, [{ env, resolve, reject }]);
        this.lookUp(user);
      }
    });
  }

  publishToTopic(env: Envelope): Promise<void> {
    if (this.state !== 'started') return Promise.reject(this.notStarted());
    this.deliverLocal(ITEM_TOPIC, env);
    return this.enqueue(this.o.keys.broadcast(), encodeItem(ITEM_TOPIC, env));
  }

  publishControl(msg: ControlMessage): Promise<void> {
    if (this.state !== 'started') return Promise.reject(this.notStarted());
    this.deliverLocal(ITEM_CONTROL, msg);
    return this.enqueue(this.o.keys.broadcast(), encodeItem(ITEM_CONTROL, msg));
  }

  private retain(env: Envelope): void {
    if (this.state !== 'started') return;
    const max = this.o.maxRetained ?? DEFAULT_MAX_RETAINED;
    if (this.retained.length >= max) {
      this.retained.shift();
      this.counters.retainDropped++;
    }
    this.retained.push(env);
    if (this.retainTimer === null) {
      this.retainTimer = setTimeout(() => this.reforward(), this.retainDelayMs);
      this.retainTimer.unref();
    }
  }

  /** Sends the retained messages again, in order; what fails again is retained with a longer delay. */
  private reforward(): void {
    this.retainTimer = null;
    const batch = this.retained;
    this.retained = [];
    if (this.state !== 'started' || batch.length === 0) return;
    let failed = false;
    const sends = batch.map((env) =>
      this.routeUser(env).then(
        () => {
          this.counters.reforwarded++;
        },
        () => {
          failed = true;
          this.retain(env);
        },
      ),
    );
    void Promise.all(sends).then(() => {
      this.retainDelayMs = failed
        ? Math.min(this.retainDelayMs * 2, RETAIN_MAX_DELAY_MS)
        : RETAIN_FIRST_DELAY_MS;
    });
  }

  /**
   * Routes a user message taken over from a dead node's inbox to wherever its user is now (this node
   * included). Resolves once forwarded; offline users are skipped (they replay from the store).
   */
  async reroute(env: Envelope): Promise<void> {
    if (this.state !== 'started') throw this.notStarted();
    const nodes = await this.o.presence.lookupNodes(env.toUser);
    if (nodes.includes(this.o.nodeId)) this.deliverLocal(ITEM_USER, env);
    await this.forward(env, nodes);
  }

  /**
   * Reads presence for the messages waiting on `user` (queued before the read was issued) and
   * forwards them in order; messages queued meanwhile get a read of their own.
   */
  private lookUp(user: string): void {
    const list = this.waiting.get(user)!;
    const n = list.length;
    // The presence read must follow the append of every stored message routed on it: the store's
    // read inside the latest of those appends does (RedisPresence.noteAppendRead), or a new one.
    let afterSeq = 0;
    for (let i = 0; i < n; i++) if (list[i]!.env.qos === 1) afterSeq = Math.max(afterSeq, list[i]!.env.seq);
    const settle = (apply: (w: Waiter) => void): void => {
      for (const w of list.splice(0, n)) {
        this.backlog -= waiterBytes(w.env);
        apply(w);
      }
      if (list.length > 0) this.lookUp(user);
      else this.waiting.delete(user);
    };
    this.o.presence.lookupNodes(user, afterSeq).then(
      (nodes) =>
        settle((w) => {
          this.forward(w.env, nodes).then(w.resolve, w.reject);
        }),
      (err: unknown) => {
        this.o.onError('presence', err);
        // QoS 0 to a user with sessions here was delivered above; remote devices miss it (at most once).
        const local = this.o.presence.hasLocal(user);
        settle((w) => (w.env.qos === 0 && local ? w.resolve() : w.reject(unavailable('Redis unavailable'))));
      },
    );
  }

  /** To the inbox of each node in `nodes` other than this one. */
  private forward(env: Envelope, nodes: readonly string[]): Promise<void> {
    const self = this.o.nodeId;
    let item: Buffer | null = null;
    let first: Promise<void> | null = null;
    let more: Promise<void>[] | null = null;
    for (const node of nodes) {
      if (node === self) continue;
      item ??= encodeItem(ITEM_USER, env);
      const p = this.enqueue(this.o.keys.inbox(node), item, true);
      if (first === null) first = p;
      else (more ??= [first]).push(p);
    }
    if (more !== null) return Promise.all(more).then(() => undefined);
    return first ?? RESOLVED;
  }

  /** Adds an item to this turn's entry for `stream`; resolves when the entry is in Redis. */
  private enqueue(stream: string, item: Buffer, inbox = false): Promise<void> {
    let batch = this.outbox.get(stream);
    if (batch === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined); // callers that ignore the result must not cause unhandled rejections
      batch = { parts: [], items: 0, bytes: 0, inbox, promise, resolve, reject };
      this.outbox.set(stream, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After every I/O callback of this loop turn: everything the turn published goes in one XADD.
        setImmediate(this.flush);
      }
    }
    batch.parts.push(item);
    batch.items++;
    batch.bytes += item.length;
    this.backlog += item.length;
    return batch.promise;
  }

  private flushOutbox(force = false): void {
    this.flushScheduled = false;
    const outbox = this.outbox;
    if (outbox.size === 0) return;
    this.outbox = new Map();
    const { link, nodeId, streamMaxLen } = this.o;
    for (const [stream, batch] of outbox) {
      if (!force && this.sending.has(stream)) {
        this.outbox.set(stream, batch); // sent when the XADD in flight returns
        continue;
      }
      this.sending.add(stream);
      const body = batch.parts.length === 1 ? batch.parts[0]! : Buffer.concat(batch.parts);
      const args = ['XADD', stream];
      if (batch.inbox) args.push('NOMKSTREAM');
      if (streamMaxLen > 0) args.push('MAXLEN', '~', String(streamMaxLen));
      args.push('*', FIELD_ORIGIN, nodeId);
      const p = link.call<string | null>(stream, [...args, FIELD_BATCH, body]).then(
        (id) => {
          // NOMKSTREAM answers nil when the inbox is gone (its node was cleaned up as dead, or Redis
          // lost it): nothing was written, which a QoS-1 sender must hear about (it is retried).
          if (id === null) {
            batch.reject(unavailable('the recipient node has no inbox'));
            return;
          }
          this.counters.out += batch.items;
          batch.resolve();
        },
        (err: unknown) => {
          this.o.onError('publish', err);
          batch.reject(unavailable('Redis unavailable'));
        },
      );
      this.inflightXadds++;
      void p.then(() => {
        this.backlog -= batch.bytes;
        if (--this.inflightXadds === 0 && this.onXaddsSettled !== null) this.onXaddsSettled();
        this.sending.delete(stream);
        if (this.outbox.has(stream) && !this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(this.flush);
        }
      });
    }
  }

  /** Bytes for other nodes not yet in Redis: outbox, XADDs in flight, messages awaiting presence. */
  backlogBytes(): number {
    return Math.max(0, this.backlog); // look-ups settling after close() subtract from the reset 0
  }

  private onInbox(entries: StreamEntry[]): void {
    for (const entry of entries) this.handleEntry(entry, false);
  }

  private onBroadcast(entries: StreamEntry[]): void {
    for (const entry of entries) this.handleEntry(entry, true);
  }

  private handleEntry(entry: StreamEntry, broadcast: boolean): void {
    const body = entry.fields.get(FIELD_BATCH);
    // Our own broadcasts were delivered here when published.
    if (broadcast && entry.fields.get(FIELD_ORIGIN)?.toString() === this.o.nodeId) return;
    let items;
    try {
      if (body === undefined) throw new Error('entry without a batch field');
      items = decodeBatch(body);
    } catch (err) {
      this.counters.badEntries++;
      this.o.logger.error({ err, id: entry.id }, 'dropping a malformed cluster stream entry');
      return;
    }
    for (const item of items) {
      this.counters.in++;
      if (item.kind === ITEM_CONTROL) this.deliverLocal(ITEM_CONTROL, item.msg);
      else this.deliverLocal(item.kind, item.env);
    }
  }

  private deliverLocal(kind: number, msg: Envelope | ControlMessage): void {
    const h = this.handler;
    if (h === undefined) return;
    try {
      if (kind === ITEM_USER) h.onUserMessage(msg as Envelope);
      else if (kind === ITEM_TOPIC) h.onTopicMessage(msg as Envelope);
      else h.onControl(msg as ControlMessage);
    } catch (err) {
      this.counters.handlerErrors++;
      this.o.logger.error({ err }, 'bus handler failed');
    }
  }

  /**
   * Stops reading, sends what this turn queued and waits for it. Publishing afterwards rejects with
   * 107. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.retainTimer !== null) clearTimeout(this.retainTimer);
    this.retainTimer = null;
    if (this.retained.length > 0)
      this.o.logger.warn(
        { messages: this.retained.length },
        'closing with QoS-1 forwards not sent; recipients catch up from the store',
      );
    this.retained = [];
    this.flushOutbox(true);
    const readers = this.readers;
    this.readers = [];
    const closing = readers.map((r) => r.close());
    // Destroying the blocking connections ends reads blocked in Redis at once.
    for (const l of this.blockingLinks) l.destroy();
    this.blockingLinks = [];
    await Promise.all(closing);
    if (this.inflightXadds > 0) await new Promise<void>((resolve) => (this.onXaddsSettled = resolve));
    for (const list of this.waiting.values()) for (const w of list) w.reject(unavailable('bus closed'));
    this.waiting.clear();
    this.backlog = 0;
    this.handler = undefined;
  }

  private notStarted(): BusUnavailableError {
    return unavailable(this.state === 'new' ? 'publish before start()' : 'publish after close()');
  }
}

function waiterBytes(env: Envelope): number {
  return env.payload.length + WAITER_OVERHEAD_BYTES;
}

function unavailable(why: string): BusUnavailableError {
  return new BusUnavailableError(`redis bus: ${why}`);
}
