/**
 * Overload keeps its promises (docs/cluster.md, "Overload"): a real node on a real redis-server that
 * is stopped (SIGSTOP) while three clients flood it with pipelined QoS-1 sends. The node stops reading
 * each flooder at its send window (session.maxInflightSends), refuses what goes beyond its
 * pending-append bound (store.maxPendingAppends) with 109 BUSY and a retry_after_ms, and holds no more
 * than that bound in flight however long Redis stays silent (asserted on /stats, not on timing). Once
 * Redis runs again every acknowledged message is delivered, once and in seq order, the refused ones
 * are accepted when resent, and two bystanders exchange QoS-1 messages as before.
 */
import { expect } from 'chai';
import { encodeFramePrefixed, type Frame } from '../../../src/protocol/codec.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const MAX_PENDING = 40;
const WINDOW = 16;
const FLOODERS = 3;
const PER_FLOODER = 300;
const RECIPIENT = 'ovl-bob';

interface OverloadStats {
  pendingAppends: number;
  pendingAppendsPeak: number;
  maxPendingAppends: number;
  busyRefusals: number;
}

async function overloadStats(gw: GatewayProcess): Promise<OverloadStats> {
  const res = await gw.admin('/stats');
  expect(res.status, res.body).to.equal(200);
  return (JSON.parse(res.body) as { overload: OverloadStats }).overload;
}

/** Prometheus sample value of `name` with `label` (0 when absent). */
function metric(text: string, name: string, label: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const msgId = (k: number, i: number): string => `f${k}-${i}`;

describe('faults: Redis stops answering while clients flood QoS 1 (bounded, nothing acked is lost)', function () {
  this.timeout(90_000 * TIME_FACTOR);
  let redis: RedisServer;
  let gw: GatewayProcess;
  let bystanders: Bystanders | undefined;
  let stopped = false;
  const clients: WireClient[] = [];

  before(async function () {
    redis = await startRedisServer();
    gw = await GatewayProcess.start([
      '--redis',
      redis.url,
      '--store-max-pending',
      String(MAX_PENDING),
      '--max-inflight-sends',
      String(WINDOW),
      // The flood is the point here: the rate limits must not be what slows it.
      '--rate-frames',
      '100000',
      '--rate-bytes',
      '64MiB',
    ]);
    bystanders = await Bystanders.start(gw.urls, 'ovl-bystander');
    await bystanders.exchange();
  });
  after(async function () {
    if (stopped) process.kill(redis.pid, 'SIGCONT');
    bystanders?.destroy();
    for (const c of clients) c.destroy();
    await gw?.cleanup();
    await redis?.stop();
  });

  it('slows and refuses instead of queueing; after Redis returns every acked message is delivered', async function () {
    const bob = await WireClient.login(gw.urls.tcp, await testToken(RECIPIENT));
    clients.push(bob);
    const flooders: WireClient[] = [];
    for (let k = 0; k < FLOODERS; k++) {
      flooders.push(await WireClient.login(gw.urls.tcp, await testToken(`ovl-flooder-${k}`)));
    }
    clients.push(...flooders);

    // Every answer (SendAck or Error) by client msg id; the flood's frame ids are 1000 + i.
    const answers = flooders.map(() => new Map<string, Frame>());
    let firstBusy!: () => void;
    const busySeen = new Promise<void>((resolve) => (firstBusy = resolve));
    const answered = (k: number, i: number): Promise<Frame> =>
      flooders[k]!.next(
        (f) => f.id === 1000 + i && (f.body === 'sendAck' || f.body === 'error'),
        60_000 * TIME_FACTOR,
      ).then((f) => {
        answers[k]!.set(msgId(k, i), f);
        if (f.error?.code === 109) firstBusy();
        return f;
      });
    const allAnswered = flooders.map((_, k) =>
      Promise.all(Array.from({ length: PER_FLOODER }, (_, i) => answered(k, i))),
    );

    process.kill(redis.pid, 'SIGSTOP');
    stopped = true;
    for (const [k, f] of flooders.entries()) {
      const frames = Array.from({ length: PER_FLOODER }, (_, i) =>
        encodeFramePrefixed({
          id: 1000 + i,
          send: { toUser: RECIPIENT, payload: Buffer.from(`${k}:${i}`), qos: 1, clientMsgId: msgId(k, i) },
        }),
      );
      f.sendBytes(Buffer.concat(frames)); // one write: the whole flood is in the node's socket at once
    }

    // The first 109 on the wire: every slot is taken then. Redis is still stopped, so nothing has been
    // stored or answered with a SendAck, and the slots stay taken.
    await busySeen;
    const s = await overloadStats(gw);
    expect(s.busyRefusals, 'the node refused sends beyond its bound with 109').to.be.greaterThan(0);
    expect(s.maxPendingAppends).to.equal(MAX_PENDING);
    expect(s.pendingAppends, 'in flight with Redis stopped').to.be.at.most(MAX_PENDING);
    expect(s.pendingAppendsPeak, 'never more than the bound').to.equal(MAX_PENDING);
    const held = metric((await gw.admin('/metrics')).body, 'ferry_overload_total', 'action="held"');

    process.kill(redis.pid, 'SIGCONT');
    stopped = false;
    await Promise.all(allAnswered);
    expect(held, 'flooders were not read while their windows were full').to.be.greaterThan(0);

    // Every refusal is a retryable 109 with advice; resend those (same client msg id) until acked.
    let refused = 0;
    for (let k = 0; k < FLOODERS; k++) {
      for (let i = 0; i < PER_FLOODER; i++) {
        let f = answers[k]!.get(msgId(k, i))!;
        while (f.body === 'error') {
          refused++;
          expect(f.error).to.deep.include({ code: 109, retryable: true });
          expect(f.error?.retryAfterMs).to.be.greaterThan(0);
          const id = flooders[k]!.send({
            send: { toUser: RECIPIENT, payload: Buffer.from(`${k}:${i}`), qos: 1, clientMsgId: msgId(k, i) },
          });
          f = await flooders[k]!.next(
            (x) => x.id === id && (x.body === 'sendAck' || x.body === 'error'),
            30_000,
          );
          answers[k]!.set(msgId(k, i), f);
        }
      }
    }
    expect(refused, 'sends answered 109 while Redis was stopped').to.be.greaterThan(0);
    const ackedSeqs = new Set<number>();
    for (const m of answers) for (const f of m.values()) ackedSeqs.add(Number(f.sendAck?.seq));
    const acked = FLOODERS * PER_FLOODER;
    expect(ackedSeqs.size, 'one seq per message').to.equal(acked);

    // The recipient gets every acked message, once, in seq order.
    let delivered = 0;
    let duplicated = 0;
    let reordered = 0;
    let last = 0;
    const seen = new Set<number>();
    while (seen.size < acked) {
      const d = await bob.next((f) => f.body === 'deliver', 30_000 * TIME_FACTOR);
      const seq = Number(d.deliver?.seq);
      if (seen.has(seq)) duplicated++;
      else {
        seen.add(seq);
        delivered++;
      }
      if (seq <= last) reordered++;
      last = Math.max(last, seq);
      bob.send({ ack: { seq: last } });
    }
    const lost = [...ackedSeqs].filter((q) => !seen.has(q)).length;
    process.stdout.write(
      `      acked=${acked} delivered=${delivered} lost=${lost} duplicated=${duplicated} reordered=${reordered}\n`,
    );
    expect({ lost, duplicated, reordered }).to.deep.equal({ lost: 0, duplicated: 0, reordered: 0 });

    const after = await overloadStats(gw);
    expect(after.pendingAppends, 'every slot given back').to.equal(0);
    expect(after.pendingAppendsPeak).to.equal(MAX_PENDING);
    await bystanders!.exchange();
  });
});
