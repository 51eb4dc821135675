/**
 * Outgoing Send and Publish requests. QoS-1 messages stay here until their SendAck: sent again on each
 * new connection and after retryable errors (104 RATE_LIMITED, 107 UNAVAILABLE, 109 BUSY) with the
 * same `client_msg_id`, which the server deduplicates (docs/protocol.md §5.3), and in the order they
 * were sent per recipient. QoS-0 messages are sent once.
 */
import { FerryClientError } from './errors.js';
import { PendingRequests, retryAfterOf } from './requests.js';
import type { Frame, FrameInit } from './wire.js';

/** Per-message options of `send` and `publish`. */
export interface SendOptions {
  /** 1 (default): stored before acked, retried until acked. 0: fire and forget. */
  qos?: 0 | 1;
  /** Dedup key (QoS 1); default a random UUID. Reuse it when re-sending after a client restart. */
  clientMsgId?: string;
  /** Typing indicators and the like: QoS 0 only; may travel as a WebTransport datagram. */
  ephemeral?: boolean;
}

/** What the server said when it accepted a message. */
export interface SendResult {
  kind: 'send' | 'publish';
  /** Recipient user or topic. */
  target: string;
  clientMsgId: string;
  serverId: string;
  /** Position in the recipient's or topic's log (QoS 1), 0 for QoS 0. */
  seq: number;
  timestampMs: number;
  /** The server had stored this clientMsgId before (a retry of a message it already had). */
  duplicate: boolean;
  /** Time from the (last) transmission to the SendAck, in ms. */
  latencyMs: number;
}

/** A message to send: to a user or a topic. */
export interface OutgoingBody {
  kind: 'send' | 'publish';
  target: string;
  payload: Uint8Array;
}

interface Entry {
  body: OutgoingBody;
  qos: 0 | 1;
  ephemeral: boolean;
  clientMsgId: string;
  resolve(r: SendResult): void;
  reject(err: FerryClientError): void;
  /** Request id of the transmission in flight, 0 when none. */
  inflight: number;
}

export interface OutboxHost {
  write(frame: FrameInit): boolean;
  isOpen(): boolean;
  /** Reply timeout of QoS-0 sends (QoS-1 sends wait across reconnects instead). */
  timeoutMs: number;
  onAck(r: SendResult): void;
  setTimer(fn: () => void, ms: number): unknown;
}

/** Smallest pause before retrying a message the server refused as retryable without a delay. */
const MIN_RETRY_MS = 100;

export class Outbox {
  /** QoS-1 messages not yet acknowledged, in submission order (resent in that order). */
  private readonly entries = new Map<string, Entry>();
  /**
   * Targets (`send:bob`, `publish:room`) whose QoS-1 message the server refused as retryable: until
   * one of their messages is acknowledged again, only the oldest pending message to such a target is
   * sent, so messages to one recipient keep the order they were sent in (docs/client.md). Messages
   * already in flight when the refusal came may still be accepted ahead of it.
   */
  private readonly held = new Set<string>();

  constructor(
    private readonly requests: PendingRequests,
    private readonly host: OutboxHost,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The Send or Publish frame for `body`. */
  static frameOf(
    body: OutgoingBody,
    o: { qos: 0 | 1; ephemeral: boolean; clientMsgId: string },
    id: number,
  ): FrameInit {
    const fields = { payload: body.payload, qos: o.qos, clientMsgId: o.clientMsgId, ephemeral: o.ephemeral };
    return body.kind === 'send'
      ? { id, send: { toUser: body.target, ...fields } }
      : { id, publish: { topic: body.target, ...fields } };
  }

  submit(body: OutgoingBody, opts: SendOptions): Promise<SendResult> {
    const qos = opts.qos ?? 1;
    if (qos !== 0 && qos !== 1) return Promise.reject(badArgument(`qos must be 0 or 1, got ${String(qos)}`));
    const ephemeral = opts.ephemeral === true;
    if (ephemeral && qos === 1) return Promise.reject(badArgument('ephemeral messages must be QoS 0'));
    if (qos === 0 && !this.host.isOpen())
      return Promise.reject(
        new FerryClientError('FERRY_CLIENT_NOT_CONNECTED', 'QoS-0 messages need an open connection'),
      );
    const clientMsgId = opts.clientMsgId ?? (qos === 1 ? randomId() : '');
    if (qos === 1 && this.entries.has(clientMsgId))
      return Promise.reject(badArgument(`clientMsgId ${clientMsgId} is already pending`));
    return new Promise<SendResult>((resolve, reject) => {
      const entry: Entry = { body, qos, ephemeral, clientMsgId, resolve, reject, inflight: 0 };
      if (qos === 1) this.entries.set(clientMsgId, entry);
      this.transmit(entry);
    });
  }

  /** A new connection is open: send every unacknowledged QoS-1 message again, oldest first. */
  resendAll(): void {
    // One connection, one order: everything pending goes out oldest first, so nothing is held.
    this.held.clear();
    for (const entry of this.entries.values()) if (entry.inflight === 0) this.transmit(entry);
  }

  /** Rejects everything pending (the client closed). */
  failAll(err: FerryClientError): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) e.reject(err);
  }

  private transmit(entry: Entry): void {
    if (!this.host.isOpen()) return; // QoS 1 waits for the next connection (resendAll)
    if (entry.qos === 1 && this.held.size > 0 && !this.mayGo(entry)) return; // released in order later
    const id = this.requests.allocate();
    entry.inflight = id;
    const sentAt = Date.now();
    const reply = this.requests.wait(id, entry.qos === 1 ? 0 : this.host.timeoutMs);
    this.host.write(Outbox.frameOf(entry.body, entry, id));
    reply.then(
      (frame) => this.acked(entry, frame, sentAt),
      (err: unknown) => this.failed(entry, err as FerryClientError),
    );
  }

  private acked(entry: Entry, frame: Frame, sentAt: number): void {
    entry.inflight = 0;
    this.entries.delete(entry.clientMsgId);
    this.release(targetKey(entry.body));
    const a = frame.sendAck;
    const result: SendResult = {
      kind: entry.body.kind,
      target: entry.body.target,
      clientMsgId: a?.clientMsgId || entry.clientMsgId,
      serverId: a?.serverId ?? '',
      seq: Number(a?.seq ?? 0),
      timestampMs: Number(a?.timestampMs ?? 0),
      duplicate: a?.duplicate === true,
      latencyMs: Date.now() - sentAt,
    };
    entry.resolve(result);
    this.host.onAck(result);
  }

  private failed(entry: Entry, err: FerryClientError): void {
    entry.inflight = 0;
    if (entry.qos === 1 && this.entries.get(entry.clientMsgId) === entry) {
      // Lost with the connection: resendAll sends it on the next one.
      if (err.code === 'FERRY_CLIENT_DISCONNECTED') return;
      if (err.retryable) {
        this.held.add(targetKey(entry.body));
        this.host.setTimer(
          () => {
            if (this.entries.get(entry.clientMsgId) === entry && entry.inflight === 0) this.transmit(entry);
          },
          Math.max(MIN_RETRY_MS, retryAfterOf(err)),
        );
        return;
      }
      this.entries.delete(entry.clientMsgId);
      this.release(targetKey(entry.body));
    }
    entry.reject(err);
  }

  /** While its target is held, only the oldest pending message to it may be sent. */
  private mayGo(entry: Entry): boolean {
    const key = targetKey(entry.body);
    if (!this.held.has(key)) return true;
    for (const e of this.entries.values()) if (targetKey(e.body) === key) return e === entry;
    return true;
  }

  /** A message to `key` was settled: the target flows again, pending messages oldest first. */
  private release(key: string): void {
    if (!this.held.delete(key)) return;
    for (const e of this.entries.values())
      if (e.inflight === 0 && targetKey(e.body) === key) this.transmit(e);
  }
}

function targetKey(body: OutgoingBody): string {
  return `${body.kind}:${body.target}`;
}

function badArgument(message: string): FerryClientError {
  return new FerryClientError('FERRY_CLIENT_BAD_ARGUMENT', message);
}

/** A UUID from Web Crypto (browsers in secure contexts, Node 20), else 128 random bits as hex. */
function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
