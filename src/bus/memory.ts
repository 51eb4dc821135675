/**
 * The in-process bus: the embedded default when no Redis is configured. One process is the whole
 * cluster, so every publish is handed straight back to this node's handler.
 *
 * Delivery is synchronous: the handler has run by the time publish() returns its (already resolved)
 * promise. That is the cheapest path (no queue, no extra tick per message) and keeps publish order
 * trivially. The one hazard of synchronous delivery is re-entrancy: a handler that publishes again
 * (a kick fanning out a control message, say) would run a second handler in the middle of the first.
 * A publish made during delivery is therefore queued and delivered, still in order, right after the
 * current handler returns — so handlers never nest, as with a networked bus, where every delivery
 * arrives on its own turn.
 */
import { BusUnavailableError } from '../errors.js';
import type { Bus, BusHandler, ControlMessage, Envelope } from './bus.js';

/** Which handler method a delivery goes to. */
export type MemoryBusChannel = 'user' | 'topic' | 'control';

/** Options of a MemoryBus. */
export interface MemoryBusOptions {
  /**
   * Called when a handler throws. The bus carries on with the next message either way; without this
   * option the error is only counted (`handlerErrors`). Wire it to the logger.
   */
  onError?: (err: unknown, channel: MemoryBusChannel) => void;
}

type Pending =
  | { channel: 'user'; msg: Envelope }
  | { channel: 'topic'; msg: Envelope }
  | { channel: 'control'; msg: ControlMessage };

const RESOLVED: Promise<void> = Promise.resolve();

/** A Bus whose only node is this process. */
export class MemoryBus implements Bus {
  readonly name = 'memory';
  private handler: BusHandler | undefined;
  private state: 'new' | 'started' | 'closed' = 'new';
  private readonly onError: ((err: unknown, channel: MemoryBusChannel) => void) | undefined;
  /** Publishes made while a handler runs; drained in order once it returns. */
  private pending: Pending[] = [];
  private delivering = false;
  private errors = 0;

  constructor(opts: MemoryBusOptions = {}) {
    this.onError = opts.onError;
  }

  /** How many times a handler has thrown since the bus was created. */
  get handlerErrors(): number {
    return this.errors;
  }

  /** Starts delivering to `handler`. Rejects when already started or closed. */
  async start(handler: BusHandler): Promise<void> {
    if (this.state !== 'new') throw this.unavailable(`cannot start: already ${this.state}`);
    this.handler = handler;
    this.state = 'started';
  }

  /** Delivers to this node's handler before resolving. Rejects (107 UNAVAILABLE) unless started. */
  publishToUser(env: Envelope): Promise<void> {
    return this.publish('user', env);
  }

  /** Delivers to this node's handler before resolving. Rejects (107 UNAVAILABLE) unless started. */
  publishToTopic(env: Envelope): Promise<void> {
    return this.publish('topic', env);
  }

  /** Delivers to this node's handler before resolving. Rejects (107 UNAVAILABLE) unless started. */
  publishControl(msg: ControlMessage): Promise<void> {
    return this.publish('control', msg);
  }

  /** Always 0: every publish is delivered before it returns (re-entrant ones right after). */
  backlogBytes(): number {
    return 0;
  }

  /** Stops delivery at once (queued re-entrant publishes are dropped). Idempotent. */
  async close(): Promise<void> {
    this.state = 'closed';
    this.handler = undefined;
    this.pending = [];
  }

  private publish(channel: 'user' | 'topic', msg: Envelope): Promise<void>;
  private publish(channel: 'control', msg: ControlMessage): Promise<void>;
  private publish(channel: MemoryBusChannel, msg: Envelope | ControlMessage): Promise<void> {
    if (this.state !== 'started') {
      const why = this.state === 'new' ? 'publish before start()' : 'publish after close()';
      return Promise.reject(this.unavailable(why));
    }
    if (this.delivering) {
      this.pending.push({ channel, msg } as Pending);
      return RESOLVED;
    }
    this.delivering = true;
    try {
      this.deliver(channel, msg);
      // Drain what handlers published meanwhile; index loop, as handlers may append further.
      for (let i = 0; i < this.pending.length; i++) {
        const p = this.pending[i]!;
        this.deliver(p.channel, p.msg);
      }
    } finally {
      this.delivering = false;
      if (this.pending.length > 0) this.pending = [];
    }
    return RESOLVED;
  }

  private deliver(channel: MemoryBusChannel, msg: Envelope | ControlMessage): void {
    const h = this.handler;
    if (h === undefined) return; // closed by a handler mid-drain
    try {
      if (channel === 'user') h.onUserMessage(msg as Envelope);
      else if (channel === 'topic') h.onTopicMessage(msg as Envelope);
      else h.onControl(msg as ControlMessage);
    } catch (err) {
      this.errors++;
      try {
        this.onError?.(err, channel);
      } catch {
        // A failing error reporter must not take the bus down with it.
      }
    }
  }

  private unavailable(why: string): BusUnavailableError {
    return new BusUnavailableError(`memory bus: ${why}`);
  }
}
