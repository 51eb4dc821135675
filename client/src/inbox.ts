/**
 * Incoming deliveries: deduplication by seq, held messages while nobody listens, batched cumulative
 * acks (docs/protocol.md §5.4), and the per-topic offsets used to resubscribe (§5.5).
 */
import type { Frame } from './wire.js';

/** A message delivered to this client. */
export interface Message {
  /** Sender user and device. */
  from: string;
  fromDevice: string;
  /**
   * Who on the server side sent this message: the API key (or mTLS caller) name of an access-API Push
   * or Broadcast, or the service name of a business service's reply; '' for every message a user
   * sent. Only the server can set it: trust a message as the server's by this, never by `from`
   * (docs/protocol.md §5.4).
   */
  fromService: string;
  /** The topic for topic messages, '' for messages to this user. */
  topic: string;
  payload: Uint8Array;
  /** Per-user sequence (QoS-1 user messages), topic offset (QoS-1 topic messages), 0 for QoS 0. */
  seq: number;
  qos: 0 | 1;
  clientMsgId: string;
  serverId: string;
  /** Server time when the message was accepted (Unix ms). */
  timestampMs: number;
  ephemeral: boolean;
}

/** Acks are sent after at most this many unacked messages even before the delay runs out. */
const ACK_BATCH = 64;

export class Inbox {
  /** Highest QoS-1 user seq handed to the application (the resume point, `Authenticate.last_seq`). */
  processedSeq: number;
  /** Highest QoS-1 user seq accepted (processed or held): anything at or below it is a duplicate. */
  private receivedSeq: number;
  private ackedSeq = 0;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly held: Message[] = [];
  /** Topic -> highest offset received; resubscribing asks for what came after it. */
  readonly topicOffsets = new Map<string, number>();

  constructor(
    lastSeq: number,
    private readonly ackDelayMs: number,
    /** Sends `Ack { seq }`; false when there is no open connection (retried on the next). */
    private readonly sendAck: (seq: number) => boolean,
  ) {
    this.processedSeq = lastSeq;
    this.receivedSeq = lastSeq;
  }

  /**
   * Takes one Deliver. Returns the message to hand to the application, or null for a duplicate
   * (already processed or held) that must not be shown again.
   */
  accept(d: NonNullable<Frame['deliver']>): Message | null {
    const m: Message = {
      from: d.fromUser ?? '',
      fromDevice: d.fromDevice ?? '',
      fromService: d.fromService ?? '',
      topic: d.topic ?? '',
      payload: d.payload ?? new Uint8Array(0),
      seq: Number(d.seq ?? 0),
      qos: d.qos === 1 ? 1 : 0,
      clientMsgId: d.clientMsgId ?? '',
      serverId: d.serverId ?? '',
      timestampMs: Number(d.timestampMs ?? 0),
      ephemeral: d.ephemeral === true,
    };
    if (m.qos !== 1 || m.seq === 0) return m;
    if (m.topic !== '') {
      const offset = this.topicOffsets.get(m.topic);
      if (offset !== undefined && m.seq <= offset) return null;
      if (offset !== undefined) this.topicOffsets.set(m.topic, m.seq);
      return m;
    }
    if (m.seq <= this.receivedSeq) {
      // Replayed after a reconnect (§5.4 "at least once means possibly twice"): re-ack so the server's
      // cursor catches up, but never show it twice.
      if (m.seq <= this.processedSeq) this.scheduleAck();
      return null;
    }
    this.receivedSeq = m.seq;
    return m;
  }

  /** Keeps a message until the application listens (so it is neither lost nor acked unseen). */
  hold(m: Message): void {
    this.held.push(m);
  }

  /** Takes every held message, oldest first. */
  takeHeld(): Message[] {
    return this.held.splice(0);
  }

  /** The application has processed `m` (its listeners returned): it may be acked. */
  processed(m: Message): void {
    if (m.qos !== 1 || m.topic !== '' || m.seq <= this.processedSeq) return;
    this.processedSeq = m.seq;
    if (this.processedSeq - this.ackedSeq >= ACK_BATCH) this.flush();
    else this.scheduleAck();
  }

  /** Sends the pending ack now (before closing, or when a batch is full). */
  flush(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.processedSeq > 0 && this.sendAck(this.processedSeq)) this.ackedSeq = this.processedSeq;
  }

  /**
   * A new connection: the server's `acked_seq` may already be ahead; ack what it does not have. With
   * `logReset` the server's log no longer has what this client processed (docs/protocol.md §5.4):
   * its position becomes the server's, so the messages that log gets next are not taken for
   * duplicates of seqs seen before.
   */
  resumed(serverAckedSeq: number, logReset = false): void {
    if (logReset) {
      this.processedSeq = this.receivedSeq = this.ackedSeq = serverAckedSeq;
      return;
    }
    this.ackedSeq = serverAckedSeq;
    if (this.processedSeq > serverAckedSeq) this.scheduleAck();
    // Nothing at or below the server's position will be delivered again: count it as processed.
    this.processedSeq = Math.max(this.processedSeq, serverAckedSeq);
    this.receivedSeq = Math.max(this.receivedSeq, serverAckedSeq);
  }

  /** Stops the ack timer (the client closed). */
  dispose(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  private scheduleAck(): void {
    if (this.ackTimer !== null) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.flush();
    }, this.ackDelayMs);
  }
}
