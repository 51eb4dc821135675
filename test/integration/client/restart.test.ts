import { expect } from 'chai';
import { connect, type FerryClient, type TransportKind } from '../../../client/src/node.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { certHashesOf, Inbox } from './helpers.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

/** The port of a ws://, tcp:// or https:// URL. */
function portOf(url: string): string {
  return new URL(url).port;
}

describe('client SDK across a node restart', function () {
  this.timeout(60_000 * TIME_FACTOR);
  const nodes: GatewayProcess[] = [];
  const clients: FerryClient[] = [];

  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    for (const n of nodes) await n.cleanup({ keepData: n !== nodes[nodes.length - 1] });
  });

  for (const [senderKind, receiverKind] of [
    ['ws', 'tcp'],
    ['wt', 'ws'],
  ] as const satisfies readonly (readonly [TransportKind, TransportKind])[]) {
    it(`loses no QoS-1 message when the node drains and restarts mid-conversation (${senderKind} -> ${receiverKind})`, async function () {
      const first = await GatewayProcess.start([], { wt: true });
      nodes.push(first);
      const hashes = await certHashesOf(first.urls.admin);
      const common = { certHashes: hashes, backoff: { initialMs: 100, maxMs: 1000 } };
      const urlOf = (k: TransportKind): string =>
        k === 'ws' ? first.urls.ws : k === 'tcp' ? first.urls.tcp : first.urls.wt;
      const sender = await connect({
        url: urlOf(senderKind),
        token: await testToken(`r-${senderKind}-a`),
        ...common,
      });
      const receiver = await connect({
        url: urlOf(receiverKind),
        token: await testToken(`r-${receiverKind}-b`),
        deviceId: 'd1',
        ...common,
      });
      clients.push(sender, receiver);
      const inbox = new Inbox(receiver);
      const disconnects: number[] = [];
      receiver.on('disconnect', (d) => disconnects.push(d.code));

      // A steady conversation: each send is in flight or queued when the node goes away.
      const total = 60;
      const acks: Promise<unknown>[] = [];
      let restarted: Promise<void> | null = null;
      for (let i = 0; i < total; i++) {
        acks.push(sender.send(`r-${receiverKind}-b`, `msg-${i}`));
        if (i === 20) {
          // Same ports and data dir: the drained node saved its QoS-1 store; the new one loads it.
          restarted = (async () => {
            expect(await first.terminate()).to.equal(0);
            const second = await GatewayProcess.start(
              [
                '--ws-port',
                portOf(first.urls.ws),
                '--tcp-port',
                portOf(first.urls.tcp),
                '--wt-port',
                portOf(first.urls.wt),
              ],
              { wt: true, dataDir: first.dataDir },
            );
            nodes.push(second);
          })();
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      await restarted;
      await Promise.all(acks);
      const expected = Array.from({ length: total }, (_, i) => `msg-${i}`);
      await inbox
        .until(() => expected.every((t) => inbox.texts().includes(t)), 20_000 * TIME_FACTOR)
        .catch((e: unknown) => {
          console.log(
            inbox.messages.map((m) => `${Buffer.from(m.payload).toString()}@${m.seq}`).join(' '),
            disconnects,
          );
          throw e;
        });
      // Every message arrived, in the order sent (per sender->recipient ordering), none shown twice.
      const texts = inbox.texts();
      expect(new Set(texts).size, 'distinct').to.equal(total);
      expect(texts).to.deep.equal(expected);
      expect(disconnects).to.include(4001);
      await sender.close();
      await receiver.close();
    });
  }
});
