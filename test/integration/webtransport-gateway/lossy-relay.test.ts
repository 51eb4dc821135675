import { expect } from 'chai';
import { UdpRelay } from '../../../bench/lib/udp-relay.js';
import type { Frame } from '../../../src/protocol/codec.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import { certHashes, WtWireClient } from './wt-wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const TO_BOB = 300;
const TO_ALICE = 60;
/**
 * One message every 8 ms (125/s, under the node's default 200 frames/s per connection, so the rate
 * limiter stays out of the picture). Each SendAck then travels in packets of its own, so the down link
 * sees hundreds of datagrams and the 3% drop really hits it; batched sends coalesce into a few dozen.
 */
const BATCH = 1;
/**
 * Pacing of the load, not synchronisation: a burst of sends through a 3%-loss link would measure
 * QUIC's loss recovery under congestion instead of steady traffic, which is what this test is about.
 */
const BATCH_GAP_MS = 8;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** docs/protocol.md §5.4: process a QoS-1 Deliver only if its seq is above the last one processed. */
class Receiver {
  lastSeq = 0;
  duplicates = 0;
  readonly payloads: string[] = [];

  take(f: Frame): void {
    const d = f.deliver!;
    const seq = Number(d.seq);
    if (seq <= this.lastSeq) {
      this.duplicates++;
      return;
    }
    this.lastSeq = seq;
    this.payloads.push(Buffer.from(d.payload!).toString());
  }
}

const expected = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('WebTransport through a lossy UDP relay (3% drop both ways, real `ferry start`)', function () {
  this.timeout(120_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let relay: UdpRelay;
  let hashes: string[];
  const clients: { close(): void }[] = [];

  before(async function () {
    gw = await GatewayProcess.start([], { wt: true });
    hashes = (await certHashes(gw.urls.admin)).hashes.map((h) => h.value);
    const link = { drop: 0.03, delayMs: 2, jitterMs: 2 };
    relay = new UdpRelay({ targetPort: Number(new URL(gw.urls.wt).port), up: link, down: link, seed: 7 });
  });
  after(async function () {
    for (const c of clients.splice(0)) c.close();
    await relay?.close();
    await gw?.cleanup();
  });

  it('delivers QoS-1 messages both ways exactly once and in order, with no session close', async function () {
    const port = await relay.listen();
    const alice = await WtWireClient.login(
      `https://127.0.0.1:${port}/wt`,
      hashes,
      await testToken('lr-alice'),
    );
    clients.push(alice);
    const bob = await WireClient.login(gw.urls.ws, await testToken('lr-bob'));
    clients.push(bob);

    // Bob (WebSocket) acknowledges every delivery as he processes it.
    const atBob = new Receiver();
    const bobDone = (async () => {
      while (atBob.payloads.length < TO_BOB) {
        const f = await bob.nextBody('deliver', 60_000 * TIME_FACTOR);
        atBob.take(f);
        bob.send({ ack: { seq: f.deliver!.seq } });
      }
    })();

    // Alice (WebTransport, behind the relay) sends in paced batches; Bob answers with his own.
    for (let i = 0; i < TO_BOB; i++) {
      alice.send({
        send: { toUser: 'lr-bob', payload: Buffer.from(`a-${i}`), qos: 1, clientMsgId: `a-${i}` },
      });
      if (i < TO_ALICE) {
        bob.send({
          send: { toUser: 'lr-alice', payload: Buffer.from(`b-${i}`), qos: 1, clientMsgId: `b-${i}` },
        });
      }
      if (i % BATCH === BATCH - 1) await sleep(BATCH_GAP_MS);
    }

    const atAlice = new Receiver();
    while (atAlice.payloads.length < TO_ALICE) {
      const f = await alice.nextBody('deliver', 60_000 * TIME_FACTOR);
      atAlice.take(f);
      alice.send({ ack: { seq: f.deliver!.seq } });
    }
    await bobDone;
    await alice.until(
      () => alice.frames.filter((f) => f.body === 'sendAck').length >= TO_BOB,
      60_000 * TIME_FACTOR,
      'every SendAck',
    );

    const acks = alice.frames.filter((f) => f.body === 'sendAck').map((f) => f.sendAck!);
    expect(acks.map((a) => a.clientMsgId).sort()).to.deep.equal(expected('a', TO_BOB).sort());
    expect(acks.filter((a) => a.duplicate)).to.deep.equal([]);
    expect(atBob.payloads).to.deep.equal(expected('a', TO_BOB));
    expect(atAlice.payloads).to.deep.equal(expected('b', TO_ALICE));
    expect(atBob.duplicates + atAlice.duplicates).to.equal(0);
    // Nothing more arrives (no redelivery), and both ends are still connected: a Pong is written on
    // the same ordered stream after anything the node had queued for that connection.
    for (const c of [alice, bob]) {
      c.send({ ping: { timestampMs: 1 } });
      await c.next((f) => f.body === 'pong', 60_000 * TIME_FACTOR);
    }
    expect(alice.frames.filter((f) => f.body === 'deliver' || f.body === 'disconnect')).to.deep.equal([]);
    expect(bob.frames.filter((f) => f.body === 'deliver' || f.body === 'disconnect')).to.deep.equal([]);
    expect(alice.closed).to.equal(false);
    expect(bob.closed).to.equal(false);
    // The relay really did drop datagrams in both directions: QUIC recovered them.
    const c = relay.counters();
    expect(c.up.dropped).to.be.above(0);
    expect(c.down.dropped).to.be.above(0);
    expect(c.clients).to.equal(1);
  });
});
