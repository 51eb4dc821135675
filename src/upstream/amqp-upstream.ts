/**
 * The AMQP upstream: one durable RabbitMQ queue per service, `<prefix>.svc.<service>`, declared by the
 * gateway when a route first names the service (and again on every reconnect), so nothing published
 * before the service starts is lost. Each message is published persistent, through the default
 * exchange, on a confirm channel: a message is "taken" only once the broker confirmed it (for a durable
 * queue that is after the message is on disk), so ServiceAck keeps meaning "the upstream holds it".
 * Consumers ack after processing; a crashed consumer's unacked messages are redelivered by RabbitMQ.
 *
 * Backpressure: while the broker blocks the connection (memory or disk alarm), while the channel's
 * write buffer waits for `drain`, and for a second after the broker refused a publish because the
 * queue is at `x-max-length` (`x-overflow: reject-publish`), `busy()` is true and the dispatcher
 * answers 109 BUSY. A broker that is down takes nothing: the dispatcher retries, then answers 107.
 */
import type { ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '../observability/logger.js';
import type { BrokerLink } from './amqp-link.js';
import type { Priority } from './route-table.js';
import type { UpstreamMessage, UpstreamTransport } from './upstream-transport.js';

/** AMQP priorities of Ferry's four (the queue is declared with `x-max-priority` 3). */
export const AMQP_PRIORITY: Readonly<Record<Priority, number>> = { critical: 3, high: 2, normal: 1, low: 0 };
export const AMQP_MAX_PRIORITY = 3;

/** How long a service counts as busy after the broker refused a publish to its full queue. */
const FULL_HOLD_MS = 1000;

/** Name of a service's request queue. */
export function serviceQueueName(prefix: string, service: string): string {
  return `${prefix}.svc.${service}`;
}

/** Name of the queue services publish replies to (every node consumes it). */
export function replyQueueName(prefix: string): string {
  return `${prefix}.replies`;
}

/** The arguments of a service queue; a consumer declaring the queue must pass the same. */
export function serviceQueueOptions(maxLength: number): Options.AssertQueue {
  return {
    durable: true,
    arguments: {
      'x-max-priority': AMQP_MAX_PRIORITY,
      ...(maxLength > 0 ? { 'x-max-length': maxLength, 'x-overflow': 'reject-publish' } : {}),
    },
  };
}

type Outcome = 'taken' | 'full' | 'failed';

interface ServiceCounters {
  published: number;
  confirmed: number;
  refusedFull: number;
  /** Not confirmed for another reason than a full queue (broker gone, confirm timeout); retried. */
  notConfirmed: number;
  replies: number;
}

export class AmqpUpstream implements UpstreamTransport {
  readonly kind = 'amqp' as const;
  private readonly link: BrokerLink;
  private readonly prefix: string;
  private readonly maxLength: number;
  private confirmTimeoutMs: number;
  private readonly log: Logger;
  private readonly services = new Set<string>();
  /** Queues declared on the current channel (cleared when the channel changes). */
  private readonly declared = new WeakMap<ConfirmChannel, Set<string>>();
  private readonly fullUntil = new Map<string, number>();
  private readonly counters = new Map<string, ServiceCounters>();
  /** Message ids the broker returned as unroutable (their queue vanished), until their confirm. */
  private readonly returned = new Set<string>();
  private drain: Promise<void> | null = null;

  constructor(opts: {
    link: BrokerLink;
    prefix: string;
    queueMaxLength: number;
    confirmTimeoutMs: number;
    logger: Logger;
  }) {
    this.link = opts.link;
    this.prefix = opts.prefix;
    this.maxLength = opts.queueMaxLength;
    this.confirmTimeoutMs = opts.confirmTimeoutMs;
    this.log = opts.logger;
    this.link.onUp(async (_model, ch) => {
      ch.on('return', (msg: { fields: { routingKey: string }; properties: { messageId?: string } }) => {
        if (msg.properties.messageId !== undefined) this.returned.add(msg.properties.messageId);
        // Someone deleted the queue: declare it again before the next publish.
        for (const s of this.services)
          if (serviceQueueName(this.prefix, s) === msg.fields.routingKey) this.declaredOn(ch).delete(s);
      });
      for (const s of this.services) await this.declare(ch, s);
    });
  }

  /** A new confirm timeout (reload of `upstream.ackTimeoutMs`). */
  setConfirmTimeout(ms: number): void {
    this.confirmTimeoutMs = ms;
  }

  /** Declares the service's queue now if the broker is reachable, else on the next connect. */
  async prepare(service: string): Promise<void> {
    this.services.add(service);
    const ch = this.link.channel;
    if (ch !== null) await this.declare(ch, service);
  }

  busy(service: string): boolean {
    return this.link.blocked || this.drain !== null || (this.fullUntil.get(service) ?? 0) > Date.now();
  }

  /** Counts a reply a service published (the reply consumer calls this). */
  countReply(service: string): void {
    this.count(service).replies++;
  }

  async send(service: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    const c = this.count(service);
    const ch = this.link.channel;
    if (ch === null) {
      c.notConfirmed += batch.length;
      return batch;
    }
    try {
      if (!this.declaredOn(ch).has(service)) await this.declare(ch, service);
    } catch (err) {
      this.log.warn({ service, err: String(err) }, 'declaring an AMQP service queue failed');
      c.notConfirmed += batch.length;
      return batch;
    }
    const outcomes: Promise<Outcome>[] = [];
    for (const m of batch) {
      if (this.drain !== null) await this.drain;
      if (this.link.channel !== ch) {
        outcomes.push(Promise.resolve('failed'));
        continue;
      }
      outcomes.push(this.publish(ch, service, m));
    }
    const results = await Promise.all(outcomes);
    const notTaken = batch.filter((_, i) => results[i] !== 'taken');
    const full = results.filter((r) => r === 'full').length;
    c.confirmed += batch.length - notTaken.length;
    c.refusedFull += full;
    c.notConfirmed += notTaken.length - full;
    if (full > 0) this.fullUntil.set(service, Date.now() + FULL_HOLD_MS);
    if (notTaken.length > full)
      this.log.warn({ service, failed: notTaken.length - full }, 'AMQP publishes were not confirmed');
    return notTaken;
  }

  describe(service: string): Record<string, unknown> {
    return {
      queue: serviceQueueName(this.prefix, service),
      ...this.link.stats(),
      // What `busy` answers now: blocked, waiting for the channel to drain, or just refused as full.
      busy: this.busy(service),
      ...this.count(service),
    };
  }

  close(): Promise<void> {
    return this.link.close();
  }

  private publish(ch: ConfirmChannel, service: string, m: UpstreamMessage): Promise<Outcome> {
    this.count(service).published++;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      // A broker that stops answering (paused, partitioned) would hold the batch forever.
      const timer = setTimeout(() => settle('failed'), this.confirmTimeoutMs);
      let fits: boolean;
      try {
        fits = ch.sendToQueue(
          serviceQueueName(this.prefix, service),
          Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength),
          this.properties(m),
          (err: unknown) => {
            const wasReturned = this.returned.delete(m.msgId);
            if (err === null || err === undefined) settle(wasReturned ? 'failed' : 'taken');
            // A nack from a queue at its cap (reject-publish); 'channel closed' is a lost broker.
            else settle(String(err).includes('nacked') ? 'full' : 'failed');
          },
        );
      } catch {
        settle('failed');
        return;
      }
      if (!fits && this.drain === null) {
        this.log.info({ service }, 'the AMQP channel is backed up: requests get 109 BUSY until it drains');
        this.drain = new Promise<void>((r) => {
          const done = (): void => {
            ch.off('drain', done);
            ch.off('close', done);
            this.drain = null;
            this.log.info('the AMQP channel drained: publishing resumes');
            r();
          };
          ch.on('drain', done);
          ch.on('close', done);
        });
      }
    });
  }

  private properties(m: UpstreamMessage): Options.Publish {
    return {
      persistent: true,
      mandatory: true,
      priority: AMQP_PRIORITY[m.priority],
      messageId: m.msgId,
      timestamp: Math.floor(m.timestampMs / 1000),
      type: String(m.type),
      contentType: 'application/octet-stream',
      appId: 'ferry',
      replyTo: replyQueueName(this.prefix),
      headers: {
        msg_id: m.msgId,
        user: m.userId,
        device: m.deviceId,
        session: m.sessionId,
        node: m.nodeId,
        type: m.type,
        priority: m.priority,
        ts: m.timestampMs,
        attempt: m.attempt,
      },
    };
  }

  private async declare(ch: ConfirmChannel, service: string): Promise<void> {
    await ch.assertQueue(serviceQueueName(this.prefix, service), serviceQueueOptions(this.maxLength));
    this.declaredOn(ch).add(service);
  }

  private declaredOn(ch: ConfirmChannel): Set<string> {
    let s = this.declared.get(ch);
    if (s === undefined) {
      s = new Set();
      this.declared.set(ch, s);
    }
    return s;
  }

  private count(service: string): ServiceCounters {
    let c = this.counters.get(service);
    if (c === undefined) {
      c = { published: 0, confirmed: 0, refusedFull: 0, notConfirmed: 0, replies: 0 };
      this.counters.set(service, c);
    }
    return c;
  }
}
