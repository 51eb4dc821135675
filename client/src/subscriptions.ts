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

export class Subscriptions {
  private readonly topics = new Set<string>();

  constructor(
    /** Topic -> highest offset received; shared with the inbox, which advances it. */
    private readonly offsets: Map<string, number>,
    private readonly host: SubscriptionsHost,
  ) {}

  /** Adds `topic` (kept across reconnects) and subscribes once a connection is open. */
  async subscribe(topic: string, sinceSeq: number | undefined): Promise<{ topicSeq: number }> {
    this.topics.add(topic);
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
    for (const topic of this.topics) this.subscribeNow(topic).catch((err: unknown) => this.host.onError(err));
  }

  private async subscribeNow(topic: string): Promise<{ topicSeq: number }> {
    const sinceSeq = this.offsets.get(topic) ?? 0;
    const reply = await this.host.request({ subscribe: { topic, sinceSeq } });
    const topicSeq = Number(reply.reply?.topicSeq ?? 0);
    // Live-only subscription: nothing at or below the current offset will come.
    if ((this.offsets.get(topic) ?? 0) === 0 && this.topics.has(topic)) this.offsets.set(topic, topicSeq);
    return { topicSeq };
  }
}
