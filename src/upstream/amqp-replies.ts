/**
 * Replies of `amqp` services: services publish them to one durable queue, `<prefix>.replies` (the
 * `reply_to` property of every request names it), which every gateway node consumes. A reply is handed
 * to the same path as a gRPC instance's Reply (reply-sender.ts: a Deliver from the service, QoS-1
 * stored and deduplicated by `<reply_to>@<user_id>`), which reaches the user on whichever node they are
 * connected to; the message is acked to the broker only once that path accepted it (QoS 1: stored), so
 * a node that dies holding replies leaves them to the other nodes. One shared queue rather than one per
 * node: a node that is gone for good leaves no queue of replies behind, and the cluster already routes
 * by user.
 *
 * A reply's body is the payload; its headers: `service` (an amqp service of the route table: becomes
 * `from_user` and `from_service`), `user_id`, `reply_to` (the request's msg id; '' = an unprompted
 * message), `qos` (0 or 1) and optionally `instance` (becomes `from_device`).
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../observability/logger.js';
import { identifierProblem } from '../protocol/identifier.js';
import type { BrokerLink } from './amqp-link.js';
import { replyQueueName } from './amqp-upstream.js';
import { sendServiceReply, type ReplyRouter } from './reply-sender.js';

/** How long a reply the router could not take waits before it goes back to the queue. */
const REQUEUE_DELAY_MS = 1000;
const MAX_HEADER_CHARS = 128;

export interface AmqpRepliesOptions {
  link: BrokerLink;
  prefix: string;
  prefetch: number;
  replies: ReplyRouter;
  /** True when the route table has an amqp service of this name. */
  isAmqpService: (service: string) => boolean;
  /** Counts an accepted reply for the service's /stats. */
  onReply: (service: string) => void;
  maxUserIdLength: number;
  logger: Logger;
}

export class AmqpReplies {
  private readonly opts: AmqpRepliesOptions;
  private channel: Channel | null = null;
  private invalid = 0;
  private failed = 0;

  constructor(opts: AmqpRepliesOptions) {
    this.opts = opts;
    opts.link.onUp(async (model) => {
      const ch = await model.createChannel();
      ch.on('error', (err: unknown) => opts.logger.warn({ err: String(err) }, 'AMQP reply channel error'));
      ch.on('close', () => {
        if (this.channel === ch) this.channel = null;
      });
      const queue = replyQueueName(opts.prefix);
      await ch.assertQueue(queue, { durable: true });
      await ch.prefetch(opts.prefetch);
      await ch.consume(queue, (msg) => {
        if (msg !== null) this.onMessage(ch, msg);
      });
      this.channel = ch;
    });
  }

  /** Replies refused as malformed and replies the router failed (requeued), for /stats. */
  stats(): { invalid: number; failed: number; consuming: boolean } {
    return { invalid: this.invalid, failed: this.failed, consuming: this.channel !== null };
  }

  private onMessage(ch: Channel, msg: ConsumeMessage): void {
    const { logger } = this.opts;
    const h = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const service = headerString(h.service);
    const userId = headerString(h.user_id);
    const problem =
      service === null || !this.opts.isAmqpService(service)
        ? `header service ${JSON.stringify(h.service)} is not an amqp service of the route table`
        : userId === null
          ? 'header user_id is missing'
          : identifierProblem(userId, this.opts.maxUserIdLength);
    const qos = Number(h.qos ?? 0);
    const replyTo = h.reply_to === undefined ? '' : headerString(h.reply_to);
    if (problem === null && (qos === 0 || qos === 1) && replyTo !== null) {
      this.opts.onReply(service!);
      sendServiceReply(this.opts.replies, {
        service: service!,
        instanceId: headerString(h.instance) ?? 'amqp',
        userId: userId!,
        payload: msg.content,
        qos: qos as 0 | 1,
        replyTo,
      }).then(
        () => safely(() => ch.ack(msg)),
        (err: unknown) => {
          this.failed++;
          logger.warn({ err: String(err), service }, 'a service reply could not be delivered; requeued');
          // Requeued after a pause: a router that refuses now (store unavailable) would spin otherwise.
          setTimeout(() => safely(() => ch.nack(msg, false, true)), REQUEUE_DELAY_MS).unref();
        },
      );
      return;
    }
    this.invalid++;
    logger.warn(
      { service, problem: problem ?? 'qos must be 0 or 1 and reply_to a string' },
      'AMQP service reply ignored',
    );
    // Acked: a malformed reply would come back forever.
    safely(() => ch.ack(msg));
  }
}

/** A string header (AMQP tables may also carry bytes), or null when absent or too long. */
function headerString(v: unknown): string | null {
  const s = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : null;
  return s !== null && s.length <= MAX_HEADER_CHARS ? s : null;
}

/** Acks and nacks on a channel that closed meanwhile throw; the broker redelivers those anyway. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the channel is gone; its unacked messages are requeued by the broker
  }
}
