import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient, type WireKind } from '../../helpers/wire-client.js';
import { encodeFrame } from '../../../src/protocol/codec.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Every client transport: each documented code is checked on each of them. */
const KINDS: readonly WireKind[] = ['ws', 'tcp', 'wt'];

/**
 * The Disconnect frame a client got before its connection closed. WebSocket and WebTransport also
 * carry the code in their close (docs/protocol.md §6.3): it must equal the frame's.
 */
async function disconnectCode(c: WireClient): Promise<number> {
  const closed = await c.waitClosed(10_000);
  const frame = c.frames.find((f) => f.body === 'disconnect');
  const frameCode = frame?.disconnect?.code ?? 0;
  if (c.kind !== 'tcp')
    expect(closed.code, `${c.kind} close code equals the Disconnect code`).to.equal(frameCode);
  return frameCode;
}

describe('gateway: bad input and faults get their documented codes; others keep working', function () {
  this.timeout(60_000);
  let gw: GatewayProcess;
  const clients: WireClient[] = [];
  let certHashes: string[] = [];
  const urlOf = (kind: WireKind): string => gw.urls[kind];
  const login = async (kind: WireKind, user: string, deviceId?: string): Promise<WireClient> => {
    const c = await WireClient.login(urlOf(kind), await testToken(user), { deviceId, certHashes });
    clients.push(c);
    return c;
  };
  const connect = async (kind: WireKind): Promise<WireClient> => {
    const c = await WireClient.connect(urlOf(kind), { certHashes });
    clients.push(c);
    return c;
  };
  let observerA: WireClient;
  let observerB: WireClient;
  let n = 0;
  /** Two bystanders exchange a QoS-1 message: proof the node still works for others. */
  const bystandersStillWork = async (): Promise<void> => {
    n++;
    observerA.send({
      send: { toUser: 'obs-b', payload: bytes(`still ${n}`), qos: 1, clientMsgId: `obs-${n}` },
    });
    const d = await observerB.nextBody('deliver');
    expect(new TextDecoder().decode(d.deliver?.payload)).to.equal(`still ${n}`);
    observerB.send({ ack: { seq: d.deliver?.seq ?? 0 } });
  };

  before(async () => {
    gw = await GatewayProcess.start(
      [
        '--auth-deadline',
        '500ms',
        '--max-frame-bytes',
        '4096',
        '--rate-frames',
        '50',
        '--rate-bytes',
        '10MiB',
        // Every test here is an abusive connection from 127.0.0.1 on purpose; the penalty that would
        // refuse that address after 20 of them has its own test (abuse/penalty.test.ts).
        '--abuse-threshold',
        '0',
      ],
      { env: { FERRY_OUTBOUND_QUEUE_BYTES: '262144' }, wt: true },
    );
    certHashes = await gw.wtCertHashes();
    observerA = await WireClient.login(gw.urls.tcp, await testToken('obs-a'));
    observerB = await WireClient.login(gw.urls.ws, await testToken('obs-b'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await bystandersStillWork();
  });
  after(async () => {
    observerA.destroy();
    observerB.destroy();
    await gw.cleanup();
  });

  it('bad token -> 4504 AUTH_FAILED (every transport)', async () => {
    const forged = await testToken('mallory', { secret: 'some-other-secret-that-is-long-enough' });
    for (const kind of KINDS) {
      for (const token of ['not-a-jwt', forged]) {
        const c = await connect(kind);
        c.send({ authenticate: { token } });
        expect(await disconnectCode(c), kind).to.equal(4504);
      }
    }
  });

  it('expired token -> 4009 TOKEN_EXPIRED (reconnect advised)', async () => {
    for (const kind of KINDS) {
      const c = await connect(kind);
      c.send({ authenticate: { token: await testToken('late', { ttlSeconds: -3600 }) } });
      expect(await disconnectCode(c), kind).to.equal(4009);
      expect(c.frames.find((f) => f.body === 'disconnect')?.disconnect?.reconnect).to.equal(true);
    }
  });

  it('no Authenticate within the deadline -> 4005 AUTH_TIMEOUT', async () => {
    const codes = await Promise.all(KINDS.map(async (kind) => disconnectCode(await connect(kind))));
    expect(codes).to.deep.equal([4005, 4005, 4005]);
  });

  it('a first frame other than Authenticate -> 4503 PROTOCOL_VIOLATION', async () => {
    for (const kind of KINDS) {
      const c = await connect(kind);
      c.send({ send: { toUser: 'x', payload: bytes('no auth'), qos: 0 } });
      expect(await disconnectCode(c), kind).to.equal(4503);
    }
  });

  it('oversize frame -> 4501 FRAME_TOO_LARGE (every transport)', async () => {
    for (const kind of KINDS) {
      const c = await login(kind, 'big');
      c.send({ send: { toUser: 'obs-b', payload: new Uint8Array(5000), qos: 0 } });
      expect(await disconnectCode(c), kind).to.equal(4501);
    }
  });

  it('garbage bytes -> 4500 BAD_FRAME, before and after auth', async () => {
    for (const kind of ['tcp', 'wt'] as const) {
      const raw = await connect(kind);
      raw.sendBytes(Buffer.from('00000006ffffffffffff', 'hex'));
      expect(await disconnectCode(raw), kind).to.equal(4500);
    }
    const wt = await login('wt', 'garbage-wt');
    wt.sendBytes(Buffer.from('00000006ffffffffffff', 'hex'));
    expect(await disconnectCode(wt)).to.equal(4500);
    const ws = await login('ws', 'garbage');
    ws.sendBytes(Buffer.from('ffffffffffffffffffff', 'hex'));
    expect(await disconnectCode(ws)).to.equal(4500);
    const textual = await login('ws', 'texter');
    textual.sendText('{"send":{"toUser":"obs-b"}}');
    expect(await disconnectCode(textual)).to.equal(4500);
    expect(textual.closeReason).to.equal('WebSocket text message: frames must be binary messages');
    // Random noise never crashes the node: whatever the code, the connection is closed cleanly.
    for (let i = 0; i < 21; i++) {
      const c = await connect(KINDS[i % 3]!);
      c.sendBytes(randomBytes(1 + ((i * 37) % 200)));
      c.send({ authenticate: { token: 'x' } });
      const code = await disconnectCode(c);
      expect(code).to.be.within(4500, 4599);
    }
  });

  it('an unknown frame type -> 4502 UNKNOWN_FRAME_TYPE', async () => {
    for (const kind of KINDS) {
      const c = await login(kind, 'unknown-type');
      // Field 99 (length-delimited, empty) is no body Ferry knows.
      c.sendRaw(Buffer.from('9a0600', 'hex'));
      expect(await disconnectCode(c), kind).to.equal(4502);
    }
  });

  it('duplicate device: the older connection is told 4505 REPLACED; the new one works', async () => {
    // Each transport is replaced once, by the next one in the list.
    for (const [i, kind] of KINDS.entries()) {
      const old = await login(kind, 'dup', 'phone');
      const fresh = await login(KINDS[(i + 1) % KINDS.length]!, 'dup', 'phone');
      expect(await disconnectCode(old), kind).to.equal(4505);
      observerA.send({ send: { toUser: 'dup', payload: bytes(`to the new one ${i}`), qos: 0 } });
      expect((await fresh.nextBody('deliver')).deliver?.fromUser).to.equal('obs-a');
    }
  });

  it('flood: frames over the rate limit get 104 RATE_LIMITED, then 4006 FLOOD (every transport)', async () => {
    const frame = encodeFrame({ send: { toUser: 'nobody-f', payload: bytes('x'), qos: 0 } });
    for (const kind of KINDS) {
      const c = await login(kind, `flooder-${kind}`);
      const deadline = Date.now() + 15_000;
      // 1,000 frames/s against a limit of 50: the load, not a wait for anything.
      while (!c.closed && Date.now() < deadline) {
        for (let i = 0; i < 20; i++) c.sendRaw(frame);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(
        c.frames.some((f) => f.body === 'error' && f.error?.code === 104),
        kind,
      ).to.equal(true);
      expect(await disconnectCode(c), kind).to.equal(4006);
    }
  });
});

describe('gateway: slow consumers', function () {
  this.timeout(60_000);
  let gw: GatewayProcess;
  const clients: WireClient[] = [];
  let certHashes: string[] = [];
  const login = async (url: string, user: string): Promise<WireClient> => {
    const c = await WireClient.login(url, await testToken(user), { certHashes });
    clients.push(c);
    return c;
  };
  before(async () => {
    gw = await GatewayProcess.start(['--rate-frames', '100000', '--rate-bytes', '1GiB'], {
      env: { FERRY_OUTBOUND_QUEUE_BYTES: '262144' },
      wt: true,
    });
    certHashes = await gw.wtCertHashes();
  });
  after(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await gw.cleanup();
  });

  it('slow reader: the node cuts it with 4003 SLOW_CONSUMER instead of growing memory (every transport)', async () => {
    const sender = await login(gw.urls.tcp, 'fast-sender');
    const payload = new Uint8Array(32 * 1024);
    let cuts = 0;
    for (const kind of KINDS) {
      const user = `slowpoke-${kind}`;
      const slow = await login(gw.urls[kind], user);
      slow.pauseReading();
      const deadline = Date.now() + 20_000;
      let sent = 0;
      let cut = false;
      // About 50 MB/s at a reader that reads nothing: the load, not a wait for anything.
      while (!cut && Date.now() < deadline) {
        for (let i = 0; i < 40; i++) sender.send({ send: { toUser: user, payload, qos: 0 } });
        sent += 40;
        await new Promise((r) => setTimeout(r, 25));
        if (sent % 800 === 0) {
          const m = await gw.admin('/metrics');
          const count = /ferry_disconnects_total\{code="4003"[^}]*\} (\d+)/.exec(m.body);
          cut = Number(count?.[1] ?? 0) > cuts;
        }
      }
      expect(cut, `${kind}: node reported a 4003 disconnect`).to.equal(true);
      cuts++;
      slow.resumeReading();
      expect(await disconnectCode(slow), kind).to.equal(4003);
    }
  });

  it('keeps serving others after cutting a slow consumer', async () => {
    const a = await login(gw.urls.ws, 'after-slow-a');
    const b = await login(gw.urls.tcp, 'after-slow-b');
    a.send({ send: { toUser: 'after-slow-b', payload: bytes('ok'), qos: 1, clientMsgId: 'k1' } });
    expect((await b.nextBody('deliver')).deliver?.fromUser).to.equal('after-slow-a');
  });
});
