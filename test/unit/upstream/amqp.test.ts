/**
 * AmqpUpstream and AmqpReplies against a hand-written fake broker link and channel: what a publish
 * carries, "taken" only on the confirm, a nack from a full queue -> busy, a lost channel -> not taken,
 * and replies handed to the router (acked after it took them, malformed ones acked and counted).
 */
import { EventEmitter } from 'node:events';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { expect } from 'chai';
import { silentLogger } from '../../../src/observability/logger.js';
import type { AmqpLinkStats, BrokerLink, LinkUpHook } from '../../../src/upstream/amqp-link.js';
import { AmqpReplies } from '../../../src/upstream/amqp-replies.js';
import { AmqpUpstream, serviceQueueOptions } from '../../../src/upstream/amqp-upstream.js';
import type { UpstreamMessage } from '../../../src/upstream/upstream-transport.js';

type Confirm = (err: unknown) => void;

/** Records publishes; the test answers each confirm. */
class FakeChannel extends EventEmitter {
  published: { queue: string; body: Buffer; opts: Options.Publish; confirm: Confirm }[] = [];
  declared: { queue: string; opts: Options.AssertQueue | undefined }[] = [];
  acked: ConsumeMessage[] = [];
  consumer: ((m: ConsumeMessage | null) => void) | null = null;
  assertQueue(queue: string, opts?: Options.AssertQueue): Promise<unknown> {
    this.declared.push({ queue, opts });
    return Promise.resolve({ queue });
  }
  sendToQueue(queue: string, body: Buffer, opts: Options.Publish, confirm: Confirm): boolean {
    this.published.push({ queue, body, opts, confirm });
    return true;
  }
  prefetch(): Promise<void> {
    return Promise.resolve();
  }
  consume(_q: string, fn: (m: ConsumeMessage | null) => void): Promise<unknown> {
    this.consumer = fn;
    return Promise.resolve({ consumerTag: 't' });
  }
  ack(m: ConsumeMessage): void {
    this.acked.push(m);
  }
  nack(): void {}
}

class FakeLink implements BrokerLink {
  channel: ConfirmChannel | null = null;
  blocked = false;
  readonly hooks: LinkUpHook[] = [];
  replyChannel = new FakeChannel();
  onUp(hook: LinkUpHook): void {
    this.hooks.push(hook);
  }
  async up(ch: FakeChannel): Promise<void> {
    const model = { createChannel: () => Promise.resolve(this.replyChannel) } as unknown as ChannelModel;
    for (const h of this.hooks) await h(model, ch as unknown as ConfirmChannel);
    this.channel = ch as unknown as ConfirmChannel;
  }
  stats(): AmqpLinkStats {
    return { connected: this.channel !== null, blocked: this.blocked, connects: 0, disconnects: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const msg = (n: number, over: Partial<UpstreamMessage> = {}): UpstreamMessage => ({
  msgId: `m${n}`,
  userId: `u${n}`,
  deviceId: 'd',
  sessionId: 's',
  nodeId: 'node-1',
  type: 1000 + n,
  payload: new Uint8Array([n]),
  priority: 'high',
  timestampMs: 1_700_000_000_123,
  attempt: 1,
  ...over,
});

const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('upstream/amqp-upstream', () => {
  const make = (link: FakeLink, confirmTimeoutMs = 10_000): AmqpUpstream =>
    new AmqpUpstream({ link, prefix: 'fx', queueMaxLength: 5, confirmTimeoutMs, logger: silentLogger() });

  it('publishes persistent messages with the headers and priority; taken only once confirmed', async () => {
    const link = new FakeLink();
    const up = make(link);
    const ch = new FakeChannel();
    await up.prepare('billing'); // broker down: declared on connect
    await link.up(ch);
    expect(ch.declared).to.deep.equal([{ queue: 'fx.svc.billing', opts: serviceQueueOptions(5) }]);
    const sent = up.send('billing', [msg(1), msg(2, { priority: 'low' })]);
    await settled();
    const [a, b] = ch.published;
    expect(a!.queue).to.equal('fx.svc.billing');
    expect(a!.opts).to.deep.include({
      persistent: true,
      priority: 2,
      messageId: 'm1',
      type: '1001',
      replyTo: 'fx.replies',
      timestamp: 1_700_000_000,
    });
    expect(a!.opts.headers).to.deep.equal({
      msg_id: 'm1',
      user: 'u1',
      device: 'd',
      session: 's',
      node: 'node-1',
      type: 1001,
      priority: 'high',
      ts: 1_700_000_000_123,
      attempt: 1,
    });
    expect(b!.opts.priority).to.equal(0);
    a!.confirm(null);
    b!.confirm(new Error('channel closed'));
    const notTaken = await sent;
    expect(notTaken.map((m) => m.msgId)).to.deep.equal(['m2']);
    expect(up.busy('billing'), 'a lost channel is not backpressure').to.equal(false);
    expect(up.describe('billing')).to.include({ queue: 'fx.svc.billing', confirmed: 1, notConfirmed: 1 });
  });

  it('reports busy after a nack from a full queue, and while the broker blocks the connection', async () => {
    const link = new FakeLink();
    const up = make(link);
    const ch = new FakeChannel();
    await link.up(ch);
    const sent = up.send('billing', [msg(1)]);
    await settled();
    ch.published[0]!.confirm(new Error('message nacked'));
    expect(await sent).to.have.length(1);
    expect(up.busy('billing')).to.equal(true);
    expect(up.busy('other')).to.equal(false);
    expect(up.describe('billing')).to.include({ refusedFull: 1 });
    link.blocked = true;
    expect(up.busy('other')).to.equal(true);
  });

  it('takes nothing while disconnected, and gives up on a confirm that never comes', async () => {
    const link = new FakeLink();
    const up = make(link, 20);
    expect(await up.send('billing', [msg(1)])).to.have.length(1);
    await link.up(new FakeChannel());
    expect(await up.send('billing', [msg(2)])).to.have.length(1); // never confirmed: 20 ms
  });
});

describe('upstream/amqp-replies', () => {
  it('hands valid replies to the router and acks after it took them; malformed ones are acked and counted', async () => {
    const link = new FakeLink();
    const sent: unknown[] = [];
    const replies = new AmqpReplies({
      link,
      prefix: 'fx',
      prefetch: 8,
      replies: {
        send: (origin, req) => {
          sent.push({ origin, req });
          return Promise.resolve({ seq: 1 }) as never;
        },
      },
      isAmqpService: (s) => s === 'billing',
      onReply: () => undefined,
      maxUserIdLength: 64,
      logger: silentLogger(),
    });
    await link.up(new FakeChannel());
    const rc = link.replyChannel;
    expect(rc.declared[0]).to.deep.include({ queue: 'fx.replies' });
    const deliver = (headers: Record<string, unknown>): ConsumeMessage =>
      ({ content: Buffer.from('hi'), fields: {}, properties: { headers } }) as unknown as ConsumeMessage;
    const good = deliver({ service: 'billing', user_id: 'alice', reply_to: 'r1', qos: 1, instance: 'w1' });
    rc.consumer!(good);
    rc.consumer!(deliver({ service: 'gateway', user_id: 'alice', qos: 1 }));
    rc.consumer!(deliver({ service: 'billing', qos: 1 }));
    await settled();
    expect(sent).to.have.length(1);
    expect(sent[0]).to.deep.include({
      origin: { userId: 'billing', deviceId: 'w1', fromService: 'billing' },
    });
    expect((sent[0] as { req: object }).req).to.include({ toUser: 'alice', qos: 1, clientMsgId: 'r1@alice' });
    expect(rc.acked).to.have.length(3);
    expect(replies.stats()).to.deep.equal({ invalid: 2, failed: 0, consuming: true });
  });
});
