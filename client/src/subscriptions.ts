/**
 * Topic subscriptions (docs/protocol.md §5.5): the set of topics to subscribe on every connection,
 * each with `since_seq` = the highest offset received (kept by the inbox), so retained QoS-1 topic
 * messages missed while disconnected are replayed.
 */
import type { Frame, FrameInit } from './wire.js';

export interface SubscriptionsHost {
  /** True while a connection is authenticated. */
  isOpen(): boolean;
  whenOpen(): Promise<void>;
  /** Sends a request on the open connection and resolves with its reply. */
  request(body: Omit<FrameInit, 'id'>): Promise<Frame>;
  /** A resubscription after a reconnect failed (nobody awaits it). */
  onError(err: unknown): void;
}

/** How to subscribe to one topic (docs/client.md). */
export interface SubscribeOptions {
  /** Replay retained messages after this offset (default: what this client last received, else 0). */
  sinceSeq?: number;
  /** Replay every retained message while nothing has been received yet (the server's `from_start`). */
  fromStart?: boolean;
  /**
   * A subscription token for a topic that needs a grant (docs/security.md): a string, or a function
   * asked again at every (re)subscription, so a short-lived token can be fetched fresh after a
   * reconnect.
   */
  token?: string | (() => string | Promise<string>);
}

export class Subscriptions {
  /** Subscribed topics and how to subscribe to each again. */
  private readonly topics = new Map<string, SubscribeOptions>();

  constructor(
    /** Topic -> highest offset received; shared with the inbox, which advances it. */
    private readonly offsets: Map<string, number>,
    private readonly host: SubscriptionsHost,
  ) {}

  /** Adds `topic` (kept across reconnects) and subscribes once a connection is open. */
  async subscribe(topic: string, opts: SubscribeOptions): Promise<{ topicSeq: number }> {
    this.topics.set(topic, opts);
    const { sinceSeq } = opts;
    if (!this.offsets.has(topic) || sinceSeq !== undefined) this.offsets.set(topic, sinceSeq ?? 0);
    if (!this.host.isOpen()) await this.host.whenOpen();
    return this.subscribeNow(topic);
  }

  /** Drops `topic` (no more resubscribing) and tells the server when connected. */
  async unsubscribe(topic: string): Promise<void> {
    this.topics.delete(topic);
    this.offsets.delete(topic);
    if (this.host.isOpen()) await this.host.request({ unsubscribe: { topic } });
  }

  /** A new connection is open: subscribe to every topic again, from its offset. */
  resubscribeAll(): void {
    for (const topic of this.topics.keys())
      this.subscribeNow(topic).catch((err: unknown) => this.host.onError(err));
  }

  private async subscribeNow(topic: string): Promise<{ topicSeq: number }> {
    const opts = this.topics.get(topic) ?? {};
    const sinceSeq = this.offsets.get(topic) ?? 0;
    const fromStart = sinceSeq === 0 && opts.fromStart === true;
    const token = typeof opts.token === 'function' ? await opts.token() : (opts.token ?? '');
    const reply = await this.host.request({ subscribe: { topic, sinceSeq, fromStart, token } });
    const topicSeq = Number(reply.reply?.topicSeq ?? 0);
    // Live-only subscription: nothing at or below the current offset will come. (A replay from the
    // start brings offsets 1.. first; the inbox advances the offset as they arrive.)
    if (!fromStart && (this.offsets.get(topic) ?? 0) === 0 && this.topics.has(topic))
      this.offsets.set(topic, topicSeq);
    return { topicSeq };
  }
}
