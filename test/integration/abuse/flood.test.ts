/**
 * Every frame costs budget (docs/protocol.md §5.10): one client flooding any frame kind, over any
 * transport, is held back and cut with 4006 FLOOD after the flood tolerance, while two bystanders keep
 * exchanging QoS-1 messages with nothing lost. A real node with small limits: 50 frames/s (a Ping,
 * Pong or Ack costs a quarter), 256 KiB/s, flood tolerance 1 s.
 */
import { expect } from 'chai';
import { encodeFrame, encodeFramePrefixed, type Frame, type FrameInit } from '../../../src/protocol/codec.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { paddedPing } from '../../helpers/padded-ping.js';
import { WireClient } from '../../helpers/wire-client.js';
import { certHashes, WtWireClient } from '../webtransport-gateway/wt-wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const FRAMES_PER_SECOND = 50;
const BYTES_PER_SECOND = 256 * 1024;
/** Generous: the cut is due about 1 s (the tolerance) after the burst is spent. */
const CUT_WITHIN_MS = 10_000 * TIME_FACTOR;

interface FloodCase {
  name: string;
  /** Frames to write at once: far more than the burst plus a second's worth (5,000 small ones). */
  count: number;
  frame(i: number): Uint8Array;
  /** The reply each processed frame gets, if any, and the most a flooder may get before the cut. */
  reply?: Frame['body'];
}

const CASES: FloodCase[] = [
  {
    name: 'Ping',
    count: 5000,
    frame: (i) => encodeFrame({ id: i + 10, ping: { timestampMs: i } }),
    reply: 'pong',
  },
  // 2 x 60 KiB fit the 512 KiB burst 8 times; 40 of them keep the connection over its byte limit.
  { name: 'Ping padded to 60 KiB', count: 40, frame: (i) => paddedPing(i + 10, 60 * 1024), reply: 'pong' },
  { name: 'Pong', count: 5000, frame: (i) => encodeFrame({ id: i + 10, pong: { timestampMs: i } }) },
  { name: 'Ack', count: 5000, frame: () => encodeFrame({ ack: { seq: 1 } }) },
  {
    name: 'Send',
    count: 5000,
    frame: (i) => encodeFrame({ id: i + 10, send: { toUser: 'nobody-home', payload: Buffer.from('x') } }),
    reply: 'sendAck',
  },
];

/** Prometheus sample value of `name` with `label` (0 when absent). */
function metric(text: string, name: string, label = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${label ? `{${label}` : ''}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('abuse: flooding any frame kind is cut with 4006 while bystanders lose nothing', function () {
  this.timeout(60_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let bystanders: Bystanders;
  let hashes: string[];
  let n = 0;

  before(async function () {
    gw = await GatewayProcess.start(
      ['--rate-frames', String(FRAMES_PER_SECOND), '--rate-bytes', String(BYTES_PER_SECOND)],
      { wt: true, env: { FERRY_FLOOD_TOLERANCE: '1' } },
    );
    hashes = (await certHashes(gw.urls.admin)).hashes.map((h) => h.value);
    bystanders = await Bystanders.start(gw.urls);
    await bystanders.exchange();
  });
  after(async function () {
    bystanders?.destroy();
    await gw?.cleanup();
  });

  /** Waits for the flooder's Disconnect while the bystanders exchange, then checks what it was sent. */
  async function expectCut(
    flooder: { next(p: (f: Frame) => boolean, t?: number): Promise<Frame>; frames: Frame[] },
    c: FloodCase,
  ): Promise<void> {
    const [cut] = await Promise.all([
      flooder.next((f) => f.body === 'disconnect', CUT_WITHIN_MS),
      bystanders.exchange(),
    ]);
    expect(cut.disconnect).to.deep.include({ code: 4006, reconnect: true });
    const got = flooder.frames.map((f) => f.body);
    // Held frames are not answered: no Error frame for a control frame, and replies only for what was
    // processed: the burst plus the refills within the second or so before the cut.
    if (c.reply === 'sendAck') {
      const refused = flooder.frames.filter((f) => f.body === 'error');
      expect(refused.length, '104s answer refused requests').to.be.greaterThan(0);
      expect(refused.every((f) => f.error?.code === 104 && f.error.retryable === true)).to.equal(true);
      expect(refused.length, 'at most framesPerSecond 104s a second').to.be.at.most(FRAMES_PER_SECOND * 4);
    } else {
      expect(got.filter((b) => b === 'error')).to.deep.equal([]);
    }
    if (c.reply === 'pong') expect(got.filter((b) => b === 'pong').length).to.be.below(c.count);
    await bystanders.exchange();
  }

  for (const transport of ['tcp', 'ws'] as const) {
    for (const c of CASES) {
      it(`${c.name} over ${transport}`, async function () {
        const flooder = await WireClient.login(gw.urls[transport], await testToken(`flooder-${++n}`));
        try {
          if (transport === 'tcp') {
            const frames = Array.from({ length: c.count }, (_, i) => {
              const body = c.frame(i);
              const out = Buffer.alloc(4 + body.length);
              out.writeUInt32BE(body.length, 0);
              out.set(body, 4);
              return out;
            });
            flooder.sendBytes(Buffer.concat(frames));
          } else {
            for (let i = 0; i < c.count; i++) flooder.sendRaw(c.frame(i));
          }
          await expectCut(flooder, c);
        } finally {
          flooder.destroy();
        }
      });
    }
  }

  it('Ping over WebTransport (the frame stream is held back by QUIC flow control)', async function () {
    const flooder = await WtWireClient.login(gw.urls.wt, hashes, await testToken(`flooder-${++n}`));
    try {
      const frames: FrameInit[] = Array.from({ length: 5000 }, (_, i) => ({
        id: i + 10,
        ping: { timestampMs: i },
      }));
      flooder.stream.write(Buffer.concat(frames.map((f) => encodeFramePrefixed(f))));
      await expectCut(flooder, CASES[0]!);
    } finally {
      flooder.close();
    }
  });

  it('ephemeral datagrams over WebTransport: dropped over the limit, then cut', async function () {
    const flooder = await WtWireClient.login(gw.urls.wt, hashes, await testToken(`flooder-${++n}`));
    try {
      const typing: FrameInit = {
        send: { toUser: 'nobody-home', payload: Buffer.from('.'), ephemeral: true },
      };
      let cut = false;
      const disconnect = flooder.nextBody('disconnect', CUT_WITHIN_MS).finally(() => (cut = true));
      // Datagrams have no flow control: the flood is a loop that keeps sending until the server says stop.
      const flood = (async () => {
        while (!cut) {
          for (let i = 0; i < 50; i++) flooder.sendDatagram(typing);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const [f] = await Promise.all([disconnect, bystanders.exchange()]);
      await flood;
      expect(f.disconnect?.code).to.equal(4006);
      await bystanders.exchange();
    } finally {
      flooder.close();
    }
  });

  it('counted every refusal in the metrics and logged each cut flooder', async function () {
    const text = (await gw.admin('/metrics')).body;
    expect(metric(text, 'ferry_rate_limited_total', 'action="held"')).to.be.greaterThan(0);
    expect(metric(text, 'ferry_rate_limited_total', 'action="refused"')).to.be.greaterThan(0);
    expect(metric(text, 'ferry_rate_limited_total', 'action="dropped"')).to.be.greaterThan(0);
    expect(metric(text, 'ferry_disconnects_total', 'code="4006"')).to.equal(2 * CASES.length + 2);
    const cuts = gw.logs.filter((r) => r.msg === 'flooding connection cut');
    expect(cuts).to.have.length(2 * CASES.length + 2);
    await bystanders.exchange();
  });
});
