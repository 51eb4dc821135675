import { expect } from 'chai';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient, type WireKind } from '../../helpers/wire-client.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

/** The sender's transport; the recipient uses the next one in the list. */
const KINDS: readonly WireKind[] = ['ws', 'tcp', 'wt'];
/** The close code a drained client sees besides the Disconnect frame: TCP has none (docs/protocol.md §6.3). */
const CLOSE_CODE: Record<WireKind, number> = { ws: 4001, tcp: 0, wt: 4001 };

describe('gateway: SIGTERM drain', function () {
  this.timeout(60_000);

  for (const [i, aliceKind] of KINDS.entries()) {
    const bobKind = KINDS[(i + 1) % KINDS.length]!;
    it(`says go-away with reconnect advice, exits 0, and loses no acked QoS-1 message across a restart (${aliceKind} -> ${bobKind})`, async () => {
      const gw = await GatewayProcess.start(['--drain-timeout', '4s'], { wt: true });
      const certHashes = await gw.wtCertHashes();
      const alice = await WireClient.login(gw.urls[aliceKind], await testToken('dr-alice'), { certHashes });
      const bob = await WireClient.login(gw.urls[bobKind], await testToken('dr-bob'), { certHashes });
      const acked: string[] = [];
      // 30 to online bob (who acks only the first 10), 10 to offline carol.
      for (let i = 1; i <= 40; i++) {
        const to = i <= 30 ? 'dr-bob' : 'dr-carol';
        const id = alice.send({
          send: { toUser: to, payload: bytes(`m${i}`), qos: 1, clientMsgId: `m${i}` },
        });
        const r = await alice.next((f) => f.id === id);
        if (r.body === 'sendAck') acked.push(`m${i}`);
      }
      expect(acked).to.have.length(40);
      for (let i = 1; i <= 30; i++) await bob.nextBody('deliver');
      bob.send({ ack: { seq: 10 } });
      const pid = bob.send({ ping: { timestampMs: 1 } });
      await bob.next((f) => f.id === pid || f.body === 'pong');

      const exit = gw.terminate();
      const [ca, cb] = await Promise.all([alice.waitClosed(15_000), bob.waitClosed(15_000)]);
      expect(ca.code).to.equal(CLOSE_CODE[aliceKind]);
      for (const c of [alice, bob]) {
        const goAway = c.frames.find((f) => f.body === 'disconnect')?.disconnect;
        expect(goAway?.code).to.equal(4001);
        expect(goAway?.reconnect).to.equal(true);
      }
      expect(cb.code).to.equal(CLOSE_CODE[bobKind]);
      expect(await exit).to.equal(0);

      const again = await GatewayProcess.start([], { dataDir: gw.dataDir, wt: true });
      try {
        const hashes = await again.wtCertHashes();
        const bob2 = await WireClient.login(again.urls[bobKind], await testToken('dr-bob'), {
          certHashes: hashes,
        });
        const carol = await WireClient.login(again.urls[aliceKind], await testToken('dr-carol'), {
          certHashes: hashes,
        });
        const gotBob: string[] = [];
        for (let i = 0; i < 20; i++) gotBob.push(text((await bob2.nextBody('deliver')).deliver?.payload));
        const gotCarol: string[] = [];
        for (let i = 0; i < 10; i++) gotCarol.push(text((await carol.nextBody('deliver')).deliver?.payload));
        expect(gotBob).to.deep.equal(acked.slice(10, 30));
        expect(gotCarol).to.deep.equal(acked.slice(30, 40));
        bob2.destroy();
        carol.destroy();
      } finally {
        await again.cleanup();
      }
    });
  }
});
