/**
 * Identity abuse on a real node with the gRPC access API: who a client may claim to be (one
 * identifier rule, reserved ids, tokens that never expire), whether it can pass for the server
 * (from_service), and whether garbage reaches the gRPC decoder before the API key is checked. Two
 * bystanders exchange QoS-1 messages after every attack and must lose nothing.
 */
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { AccessClient } from '../../../src/access/client.js';
import { DisconnectCode, ReplyCode } from '../../../src/errors.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, OPEN_PERMISSIONS, TEST_SECRET, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import {
  accessClient,
  API_KEY,
  API_KEY_FLAGS,
  callError,
  callUnary,
  healthClient,
} from '../access/support.js';

/** The name of the key `--access-api-key` configures: what from_service says for our pushes. */
const KEY_NAME = 'default';

/** A token signed with the test secret: claims as given, `exp` one hour ahead unless `exp: null`. */
function token(claims: Record<string, unknown>, opts: { exp?: null } = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (opts.exp !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + 3600);
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
}

/** Protobuf bytes no request message decodes from: field 1 (LEN) declares 5 bytes, 1 follows. */
const GARBAGE = Buffer.from([0x0a, 0x05, 0x01]);

function metadata(key: string | null): grpc.Metadata {
  const md = new grpc.Metadata();
  if (key !== null) md.set('x-api-key', key);
  return md;
}

describe('abuse: identity (real node, gRPC access API)', function () {
  this.timeout(30_000);
  let gw: GatewayProcess;
  let api: AccessClient;
  let bystanders: Bystanders;
  const wires: WireClient[] = [];

  before(async () => {
    gw = await GatewayProcess.start([...API_KEY_FLAGS, ...OPEN_PERMISSIONS], { grpc: true });
    api = accessClient(gw.urls.grpc);
    bystanders = await Bystanders.start(gw.urls, 'id-bystander');
    await bystanders.exchange();
  });
  afterEach(async () => {
    // Whatever the attack was, the well-behaved users' QoS-1 exchange goes on, in order, nothing lost.
    await bystanders.exchange();
  });
  after(async () => {
    for (const w of wires) w.destroy();
    bystanders?.destroy();
    api?.close();
    await gw?.cleanup();
  });

  async function login(url: string, tok: string, deviceId = ''): Promise<WireClient> {
    const w = await WireClient.login(url, tok, { deviceId });
    wires.push(w);
    return w;
  }

  /** Authenticates over WebSocket; resolves with the Disconnect the node answered and the close code. */
  async function refused(tok: string): Promise<{ code: number; reason: string; closeCode: number }> {
    const w = await WireClient.connect(gw.urls.ws);
    wires.push(w);
    w.send({ authenticate: { token: tok } });
    const f = await w.next((x) => x.body === 'disconnect' || x.body === 'authResult');
    expect(f.body, `expected a refusal, got ${f.body}`).to.equal('disconnect');
    const closed = await w.waitClosed();
    return { code: f.disconnect?.code ?? 0, reason: f.disconnect?.reason ?? '', closeCode: closed.code };
  }

  it('refuses a token whose sub is the push sender "system" (4504), and Login of it (INVALID_ARGUMENT)', async () => {
    const r = await refused(await token({ sub: 'system', did: 'dev' }));
    expect(r).to.deep.equal({
      code: DisconnectCode.AUTH_FAILED,
      reason: 'token subject (sub) "system" is reserved for the server (auth.reservedUserIds)',
      closeCode: DisconnectCode.AUTH_FAILED,
    });
    expect((await refused(await token({ sub: '$admin' }))).reason).to.match(/ids starting with "\$"/);
    const err = await callError(api, 'Login', { userId: 'system', deviceId: 'dev' });
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.details).to.equal('user_id: "system" is reserved for the server (auth.reservedUserIds)');
  });

  it('counts user ids in UTF-8 bytes: 128 CJK characters are refused (4504), 42 log in and are reachable', async () => {
    const tooLong = await refused(await token({ sub: '界'.repeat(128) }));
    expect(tooLong).to.include({
      code: DisconnectCode.AUTH_FAILED,
      reason: 'token subject (sub) is longer than 128 bytes (UTF-8)',
    });
    const fits = '界'.repeat(42); // 126 bytes
    const them = await login(gw.urls.tcp, await token({ sub: fits }));
    const sender = await login(gw.urls.ws, await testToken('id-cjk-sender'));
    const id = sender.send({
      send: { toUser: fits, payload: Buffer.from('hi'), qos: 1, clientMsgId: 'cjk-1' },
    });
    const ack = await sender.next((f) => f.id === id);
    expect(ack.body, ack.error?.message ?? '').to.equal('sendAck');
    const d = await them.nextBody('deliver');
    expect(d.deliver).to.include({ fromUser: 'id-cjk-sender', clientMsgId: 'cjk-1' });
    const q = sender.send({ presenceQuery: { userIds: [fits] } });
    const p = await sender.next((f) => f.id === q);
    expect(p.body, p.error?.message ?? '').to.equal('presenceResult');
    expect(p.presenceResult?.users?.[0]).to.include({ userId: fits, online: true });
  });

  it('refuses control and format characters in sub (U+0085 NEL, U+202E RLO) and did (4504)', async () => {
    for (const [claims, reason] of [
      [{ sub: 'mallory\u0085' }, 'token subject (sub) contains U+0085 (a control character)'],
      [{ sub: 'gpj.\u202Eexe' }, 'token subject (sub) contains U+202E (a format character)'],
      [{ sub: 'mallory', did: 'x\u200By' }, 'token device id (did) contains U+200B (a format character)'],
    ] as const) {
      expect(await refused(await token(claims))).to.include({ code: DisconnectCode.AUTH_FAILED, reason });
    }
  });

  it('refuses a token without exp (4504)', async () => {
    expect(await refused(await token({ sub: 'forever' }, { exp: null }))).to.include({
      code: DisconnectCode.AUTH_FAILED,
      reason: 'token has no expiry (exp)',
    });
  });

  it("marks a Push's Deliver with from_service, and never a client's, even one that mimics the sender", async () => {
    const rcpt = await login(gw.urls.ws, await testToken('id-rcpt'), 'phone');
    // Same user id as the push's from_user, same device as the API key name.
    const mimic = await login(gw.urls.tcp, await testToken('support-bot'), KEY_NAME);
    // First the mimic takes the client_msg_id the Push will be stored under (<id>@<recipient>).
    const m = mimic.send({
      send: { toUser: 'id-rcpt', payload: Buffer.from('mimic'), qos: 1, clientMsgId: 'p1@id-rcpt' },
    });
    expect((await mimic.next((f) => f.id === m)).body).to.equal('sendAck');
    const res = await callUnary(api, 'Push', {
      recipients: [{ userId: 'id-rcpt' }],
      payload: Buffer.from('backend'),
      qos: 1,
      clientMsgId: 'p1',
      fromUser: 'support-bot',
    });
    expect((res.results as Record<string, unknown>[])[0]).to.include({
      status: 'PUSH_STATUS_DELIVERED',
      duplicate: false,
    });
    const byPayload = async (w: WireClient, text: string) =>
      (await w.next((f) => f.body === 'deliver' && Buffer.from(f.deliver!.payload!).toString() === text))
        .deliver!;
    const fromMimic = await byPayload(rcpt, 'mimic');
    const fromPush = await byPayload(rcpt, 'backend');
    const same = { fromUser: 'support-bot', fromDevice: KEY_NAME, clientMsgId: 'p1@id-rcpt' };
    expect(fromMimic).to.include({ ...same, fromService: '' });
    expect(fromPush).to.include({ ...same, fromService: KEY_NAME });

    // Stored with it: another device of the recipient is replayed both, still told apart.
    const tablet = await login(gw.urls.tcp, await testToken('id-rcpt'), 'tablet');
    expect((await byPayload(tablet, 'mimic')).fromService).to.equal('');
    expect((await byPayload(tablet, 'backend')).fromService).to.equal(KEY_NAME);
  });

  it('refuses a client Send to "system" with 103 PERMISSION_DENIED naming it, and counts it', async () => {
    const c = await login(gw.urls.ws, await testToken('id-sender'));
    const id = c.send({ send: { toUser: 'system', payload: Buffer.from('x'), qos: 1, clientMsgId: 's1' } });
    const f = await c.next((x) => x.id === id);
    expect(f.body).to.equal('error');
    expect(f.error).to.include({
      code: ReplyCode.PERMISSION_DENIED,
      message: 'send.to_user "system" is reserved for the server; no client can receive it',
    });
    const metrics = (await gw.admin('/metrics')).body;
    expect(metrics).to.match(/^ferry_errors_total\{code="103",name="PERMISSION_DENIED"\} [1-9]/m);
  });

  it('checks the API key before the body: garbage is UNAUTHENTICATED without a key, INVALID_ARGUMENT with one', async () => {
    const raw = new grpc.Client(gw.urls.grpc, grpc.credentials.createInsecure());
    const unary = (key: string | null): Promise<grpc.ServiceError> =>
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          '/ferry.access.v1.AccessGateway/Push',
          (b: Buffer) => b,
          (b: Buffer) => b,
          GARBAGE,
          metadata(key),
          { deadline: Date.now() + 10_000 },
          (err) => (err ? resolve(err) : reject(new Error('garbage was accepted'))),
        ),
      );
    const connect = (key: string | null): Promise<grpc.ServiceError> =>
      new Promise((resolve) => {
        const call = raw.makeBidiStreamRequest(
          '/ferry.upstream.v1.Upstream/Connect',
          (b: Buffer) => b,
          (b: Buffer) => b,
          metadata(key),
        );
        call.on('data', () => undefined);
        call.on('error', resolve);
        call.write(GARBAGE);
      });
    try {
      expect((await unary(null)).code).to.equal(grpc.status.UNAUTHENTICATED);
      expect((await unary('wrong-key-0123456789abcdef')).code).to.equal(grpc.status.UNAUTHENTICATED);
      const bad = await unary(API_KEY);
      expect(bad.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(bad.details).to.match(/^malformed Push request body/);
      expect((await connect(null)).code).to.equal(grpc.status.UNAUTHENTICATED);
      expect((await connect(API_KEY)).code).to.equal(grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
    // The service still answers well-formed calls, and health needs no key.
    expect(await callUnary(api, 'GetPresence', { userIds: ['id-bystander-a'] })).to.have.property('users');
    const health = healthClient(gw.urls.grpc);
    try {
      const status = await new Promise<unknown>((resolve, reject) =>
        (health.Check as (r: unknown, cb: (e: Error | null, r: { status: string }) => void) => void).call(
          health,
          { service: '' },
          (e, r) => (e ? reject(e) : resolve(r.status)),
        ),
      );
      expect(status).to.equal('SERVING');
    } finally {
      health.close();
    }
    const metrics = (await gw.admin('/metrics')).body;
    expect(metrics).to.match(
      /^ferry_grpc_refused_total\{method="AccessGateway\/Push",code="UNAUTHENTICATED"\} 2$/m,
    );
    expect(metrics).to.match(
      /^ferry_grpc_refused_total\{method="Upstream\/Connect",code="INVALID_ARGUMENT"\} 1$/m,
    );
  });
});

describe('abuse: identity settings from flags (real node)', function () {
  this.timeout(30_000);
  let gw: GatewayProcess;
  const wires: WireClient[] = [];

  before(async () => {
    gw = await GatewayProcess.start(['--auth-allow-no-expiry', 'true', '--auth-reserved-users', 'ops']);
  });
  after(async () => {
    for (const w of wires) w.destroy();
    await gw?.cleanup();
  });

  async function authenticate(tok: string): Promise<{ body: string; code: number; expiresAtMs: number }> {
    const w = await WireClient.connect(gw.urls.tcp);
    wires.push(w);
    w.send({ authenticate: { token: tok } });
    const f = await w.next((x) => x.body === 'disconnect' || x.body === 'authResult');
    return {
      body: f.body ?? '',
      code: f.disconnect?.code ?? 0,
      expiresAtMs: Number(f.authResult?.expiresAtMs ?? -1),
    };
  }

  it('--auth-allow-no-expiry accepts a token without exp (with a warning); --auth-reserved-users replaces the list', async () => {
    expect(
      gw.logs.some((l) => l.level === 40 && String(l.msg).startsWith('auth.allowNoExpiry is on')),
    ).to.equal(true);
    expect(await authenticate(await token({ sub: 'forever' }, { exp: null }))).to.include({
      body: 'authResult',
      expiresAtMs: 0,
    });
    expect(await authenticate(await token({ sub: 'system' }))).to.include({ body: 'authResult' });
    expect(await authenticate(await token({ sub: 'ops' }))).to.include({ code: DisconnectCode.AUTH_FAILED });
    expect(await authenticate(await token({ sub: '$ops' }))).to.include({ code: DisconnectCode.AUTH_FAILED });
    const bystanders = await Bystanders.start(gw.urls, 'flags-bystander');
    try {
      await bystanders.exchange();
    } finally {
      bystanders.destroy();
    }
  });
});
