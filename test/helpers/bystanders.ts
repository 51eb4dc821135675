import { expect } from 'chai';
import { testToken } from './gateway-process.js';
import { WireClient } from './wire-client.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Two well-behaved users on one node, one over TCP and one over WebSocket, for abuse tests: whatever a
 * hostile client does, `exchange()` must go on working, with every QoS-1 message delivered in order
 * and nothing lost. They authenticate with `testToken`, so the node must accept TEST_SECRET.
 */
export class Bystanders {
  /** QoS-1 messages each side sent and the other received, in order. */
  exchanged = 0;

  private constructor(
    readonly a: WireClient,
    readonly b: WireClient,
    private readonly userA: string,
    private readonly userB: string,
  ) {}

  /** Logs in `<prefix>-a` on `tcpUrl` and `<prefix>-b` on `wsUrl`. */
  static async start(urls: { tcp: string; ws: string }, prefix = 'bystander'): Promise<Bystanders> {
    const userA = `${prefix}-a`;
    const userB = `${prefix}-b`;
    const a = await WireClient.login(urls.tcp, await testToken(userA));
    const b = await WireClient.login(urls.ws, await testToken(userB));
    return new Bystanders(a, b, userA, userB);
  }

  /**
   * One QoS-1 message each way: a -> b and b -> a. Each is SendAcked, delivered with the next seq of
   * its recipient, and acked. Throws (fails the test) when anything is lost, refused or out of order.
   */
  async exchange(): Promise<void> {
    const n = ++this.exchanged;
    await Promise.all([
      this.oneWay(this.a, this.b, this.userB, `a->b ${n}`, `bya-${n}`, this.seqs, 'b'),
      this.oneWay(this.b, this.a, this.userA, `b->a ${n}`, `byb-${n}`, this.seqs, 'a'),
    ]);
  }

  /**
   * The last seq each side received. A log's first seq is 1 in the memory store and Redis's clock
   * with Redis (docs/cluster.md, "Sequence numbers"); after it, each message is the next one.
   */
  private readonly seqs = { a: 0, b: 0 };

  /** Closes both connections. */
  destroy(): void {
    this.a.destroy();
    this.b.destroy();
  }

  private async oneWay(
    from: WireClient,
    to: WireClient,
    toUser: string,
    text: string,
    clientMsgId: string,
    seqs: { a: number; b: number },
    side: 'a' | 'b',
  ): Promise<void> {
    const id = from.send({ send: { toUser, payload: encoder.encode(text), qos: 1, clientMsgId } });
    const ack = await from.next((f) => f.id === id && (f.body === 'sendAck' || f.body === 'error'));
    expect(ack.body, `SendAck for ${clientMsgId}: ${ack.error?.message ?? ''}`).to.equal('sendAck');
    const d = await to.next((f) => f.body === 'deliver' && f.deliver?.clientMsgId === clientMsgId);
    expect(decoder.decode(d.deliver?.payload ?? new Uint8Array())).to.equal(text);
    const seq = Number(d.deliver?.seq);
    expect(seq, `seq of ${clientMsgId}`).to.equal(Number(ack.sendAck?.seq));
    if (seqs[side] > 0) expect(seq, `seq of ${clientMsgId}: the next one`).to.equal(seqs[side] + 1);
    else expect(seq, `first seq of ${clientMsgId}`).to.be.greaterThan(0);
    seqs[side] = seq;
    to.send({ ack: { seq } });
  }
}
