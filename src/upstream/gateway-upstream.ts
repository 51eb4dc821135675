/**
 * The built-in `gateway` service: messages routed to it are answered by this node itself, with the
 * request's payload echoed back as a Deliver from "gateway". It needs no service process, so operators
 * can check the whole path (route table, queues, ServiceAck, reply) with nothing else running, and
 * the benchmarks have a zero-cost upstream to measure the gateway's own overhead.
 */
import { sendServiceReply, type ReplyRouter } from './reply-sender.js';
import type { UpstreamMessage, UpstreamTransport } from './upstream-transport.js';

export class GatewayUpstream implements UpstreamTransport {
  readonly kind = 'gateway' as const;
  private readonly replies: ReplyRouter;
  private readonly nodeId: string;
  private answered = 0;

  constructor(opts: { replies: ReplyRouter; nodeId: string }) {
    this.replies = opts.replies;
    this.nodeId = opts.nodeId;
  }

  send(service: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    for (const m of batch) {
      this.answered++;
      sendServiceReply(this.replies, {
        service,
        instanceId: this.nodeId,
        userId: m.userId,
        payload: m.payload,
        qos: 0,
        replyTo: m.msgId,
      }).catch(() => undefined); // QoS 0: an echo to a user who just left may be lost
    }
    return Promise.resolve([]);
  }

  describe(): Record<string, unknown> {
    return { answered: this.answered };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
