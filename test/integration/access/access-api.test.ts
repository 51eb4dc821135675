import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';
import type { AccessClient } from '../../../src/access/client.js';
import { DisconnectCode } from '../../../src/errors.js';
import { GatewayProcess, testToken, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import {
  accessClient,
  API_KEY_FLAGS,
  callError,
  callUnary,
  fileContainingSymbol,
  healthClient,
  listServices,
  presenceOf,
  PresenceWatch,
  reflectionClient,
} from './support.js';

type Res = Record<string, unknown>;

/** A protobufjs Root built from reflection's FileDescriptorProtos only (no .proto file involved). */
function descriptorRoot(files: Buffer[]): protobuf.Root {
  const file = files.map((b) => descriptor.FileDescriptorProto.decode(b) as descriptor.IFileDescriptorProto);
  return protobuf.Root.fromDescriptor({ file });
}

describe('access gateway over gRPC (real ferry process)', function () {
  this.timeout(30_000);
  let gw: GatewayProcess;
  let client: AccessClient;
  const wires: WireClient[] = [];

  before(async () => {
    gw = await GatewayProcess.start([...API_KEY_FLAGS, ...OPEN_PERMISSIONS], { grpc: true });
    expect(gw.urls.grpc).to.match(/^127\.0\.0\.1:\d+$/);
    client = accessClient(gw.urls.grpc);
  });
  after(async () => {
    for (const w of wires) w.destroy();
    client?.close();
    await gw?.cleanup();
  });

  async function loginWire(userId: string, deviceId = 'phone'): Promise<{ wire: WireClient; login: Res }> {
    const login = await callUnary(client, 'Login', { userId, deviceId });
    const wire = await WireClient.login(gw.urls.ws, String(login.sessionToken));
    wires.push(wire);
    return { wire, login };
  }

  it('deduplicates a QoS-1 Push only by client_msg_id: without one, a retry stores a new message', async () => {
    const push = async (clientMsgId?: string): Promise<Res> => {
      const res = await callUnary(client, 'Push', {
        recipients: [{ userId: 'dedup-offline' }],
        payload: Buffer.from('once?'),
        qos: 1,
        ...(clientMsgId !== undefined ? { clientMsgId } : {}),
      });
      return (res.results as Res[])[0]!;
    };
    const [a, b] = [await push(), await push()];
    expect([a.status, b.status]).to.deep.equal(['PUSH_STATUS_STORED', 'PUSH_STATUS_STORED']);
    expect([a.duplicate, b.duplicate]).to.deep.equal([false, false]);
    expect(Number(b.seq)).to.equal(Number(a.seq) + 1);
    const [c, d] = [await push('retry-1'), await push('retry-1')];
    expect([c.duplicate, d.duplicate]).to.deep.equal([false, true]);
    expect(d.seq).to.equal(c.seq);
  });

  it('Login returns a session token the WebSocket listener accepts, and a business Push arrives', async () => {
    const { wire, login } = await loginWire('alice');
    expect(login).to.include({ userId: 'alice', deviceId: 'phone' });
    expect(login.sessionId).to.match(/^s-/);
    expect(Number(login.expiresAtMs)).to.be.greaterThan(Date.now());

    const res = await callUnary(client, 'Push', {
      recipients: [{ userId: 'alice' }],
      payload: Buffer.from('hello from the backend'),
      qos: 1,
      clientMsgId: 'm1',
    });
    const [r] = res.results as Res[];
    expect(r).to.include({ userId: 'alice', status: 'PUSH_STATUS_DELIVERED', seq: 1, duplicate: false });
    const f = await wire.nextBody('deliver');
    expect(Buffer.from(f.deliver!.payload!).toString()).to.equal('hello from the backend');
    expect(f.deliver).to.include({
      fromUser: 'system',
      fromDevice: 'default',
      fromService: 'default',
      seq: 1,
    });
  });

  it('Push reports stored (QoS 1) and offline (QoS 0) for users without a session; stored ones arrive on connect', async () => {
    const res = await callUnary(client, 'Push', {
      recipients: [{ userId: 'bob' }],
      payload: Buffer.from('later'),
      qos: 1,
      fromUser: 'support-bot',
    });
    expect((res.results as Res[])[0]).to.include({ status: 'PUSH_STATUS_STORED', seq: 1 });
    const q0 = await callUnary(client, 'Push', {
      recipients: [{ userId: 'bob' }],
      payload: Buffer.from('x'),
      qos: 0,
    });
    expect((q0.results as Res[])[0]).to.include({ status: 'PUSH_STATUS_OFFLINE' });

    const { wire } = await loginWire('bob');
    const f = await wire.nextBody('deliver');
    expect(Buffer.from(f.deliver!.payload!).toString()).to.equal('later');
    expect(f.deliver!.fromUser).to.equal('support-bot');
  });

  it('Login accepts a JWT credential and refuses a bad one with UNAUTHENTICATED', async () => {
    const ok = await callUnary(client, 'Login', { jwt: await testToken('dora') });
    expect(ok.userId).to.equal('dora');
    expect(ok.deviceId).to.match(/^d-/);
    const err = await callError(client, 'Login', {
      jwt: await testToken('dora', { secret: 'another-secret-0123456789abcdef-xyz' }),
    });
    expect(err.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(err.reason).to.equal('FERRY_ERR_AUTH');
  });

  it('GetPresence, ListSessions and Heartbeat see the connected device', async () => {
    const { login } = await loginWire('erin', 'tablet');
    const p = await callUnary(client, 'GetPresence', { userIds: ['erin', 'nobody'] });
    const [erin, nobody] = p.users as Res[];
    expect(erin).to.include({ userId: 'erin', online: true });
    expect((erin!.devices as Res[])[0]).to.include({ deviceId: 'tablet', transport: 'TRANSPORT_WEBSOCKET' });
    expect(nobody).to.include({ userId: 'nobody', online: false });

    const s = await callUnary(client, 'ListSessions', { userId: 'erin' });
    expect((s.sessions as Res[]).map((x) => [x.sessionId, x.connected, x.createdBy])).to.deep.equal([
      [login.sessionId, true, 'default'],
    ]);
    const hb = await callUnary(client, 'Heartbeat', { sessionId: login.sessionId });
    expect(hb).to.include({ state: 'SESSION_STATE_ACTIVE', connected: true });
  });

  it('Kick disconnects the device with the given code and reason', async () => {
    const { wire } = await loginWire('frank');
    const res = await callUnary(client, 'Kick', { userId: 'frank', code: 0, reason: 'account suspended' });
    expect(res.devices).to.equal(1);
    const closed = await wire.waitClosed();
    expect(closed).to.deep.equal({ code: DisconnectCode.KICKED, reason: 'account suspended' });
  });

  it('Logout disconnects the device (4000) and its token is refused afterwards (4504)', async () => {
    const { wire, login } = await loginWire('gina');
    const res = await callUnary(client, 'Logout', { sessionToken: login.sessionToken });
    expect(res.revoked).to.equal(true);
    expect((await wire.waitClosed()).code).to.equal(DisconnectCode.NORMAL);
    const err = await WireClient.login(gw.urls.ws, String(login.sessionToken)).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).to.match(/^auth refused: 4504 session revoked/);
    const hb = await callUnary(client, 'Heartbeat', { sessionToken: login.sessionToken });
    expect(hb.state).to.equal('SESSION_STATE_REVOKED');
    const refresh = await callError(client, 'RefreshToken', { sessionToken: login.sessionToken });
    expect(refresh.code).to.equal(grpc.status.UNAUTHENTICATED);
  });

  it('RefreshToken gives a working token for the same session', async () => {
    const login = await callUnary(client, 'Login', { userId: 'hank', deviceId: 'pc' });
    const fresh = await callUnary(client, 'RefreshToken', {
      sessionToken: login.sessionToken,
      ttlMs: 600_000,
    });
    expect(fresh).to.include({ sessionId: login.sessionId, userId: 'hank', deviceId: 'pc' });
    expect(fresh.sessionToken).to.not.equal(login.sessionToken);
    const wire = await WireClient.login(gw.urls.ws, String(fresh.sessionToken));
    wires.push(wire);
  });

  it('WatchPresence streams online and offline events, filtered by user', async () => {
    const watch = new PresenceWatch(client, { userIds: ['ivy'] });
    await watch.ready;
    await loginWire('other-user');
    const { wire } = await loginWire('ivy', 'watch');
    const online = await watch.next(presenceOf('ONLINE', 'ivy'));
    expect(online.device).to.include({ deviceId: 'watch', transport: 'TRANSPORT_WEBSOCKET' });
    wire.close();
    await watch.next(presenceOf('OFFLINE', 'ivy'));
    expect(watch.events.filter((e) => (e.device as Res).userId !== 'ivy')).to.deep.equal([]);
    watch.cancel();
  });

  it('Broadcast publishes to a topic and answers with its offset', async () => {
    const { wire } = await loginWire('jane');
    wire.send({ subscribe: { topic: 'news', sinceSeq: 0 } });
    await wire.nextBody('reply');
    const res = await callUnary(client, 'Broadcast', {
      topic: 'news',
      payload: Buffer.from('extra'),
      qos: 1,
    });
    expect(res).to.include({ topic: 'news', seq: 1 });
    const f = await wire.nextBody('deliver');
    expect(f.deliver).to.include({ topic: 'news', seq: 1 });
  });

  it('Stats answers with the node and call counters', async () => {
    const s = await callUnary(client, 'Stats', {});
    expect(s).to.include({ role: 'all', bus: 'memory' });
    expect((s.calls as Record<string, number>).Login).to.be.greaterThan(0);
    expect(Number(s.connections)).to.be.greaterThan(0);
  });

  it('refuses a missing or wrong API key with UNAUTHENTICATED', async () => {
    const none = accessClient(gw.urls.grpc, '');
    const wrong = accessClient(gw.urls.grpc, 'not-the-right-key-0123456789');
    try {
      for (const c of [none, wrong]) {
        const err = await callError(c, 'GetPresence', { userIds: ['alice'] });
        expect(err.code).to.equal(grpc.status.UNAUTHENTICATED);
        expect(err.reason).to.equal('FERRY_ERR_AUTH');
      }
      const stream = new PresenceWatch(none, {});
      const err = await stream.ready.then(
        () => new Promise<grpc.ServiceError>((resolve) => stream.call.once('error', resolve)),
        (e: grpc.ServiceError) => e,
      );
      expect(err.code).to.equal(grpc.status.UNAUTHENTICATED);
    } finally {
      none.close();
      wrong.close();
    }
  });

  it('answers malformed requests with INVALID_ARGUMENT naming the field', async () => {
    const cases: [string, Res, RegExp][] = [
      ['Login', {}, /credential/],
      ['Login', { userId: 'a', ttlMs: 5 }, /ttl_ms/],
      ['GetPresence', { userIds: [] }, /user_ids/],
      ['Push', { recipients: [{ userId: 'a' }], qos: 2 }, /qos/],
      ['Push', { recipients: [{ userId: '' }] }, /recipients/],
      ['Kick', { userId: 'a', code: 1000 }, /code/],
      ['Broadcast', { payload: Buffer.from('x') }, /target/],
      ['Logout', {}, /session/],
    ];
    for (const [method, req, field] of cases) {
      const err = await callError(client, method, req);
      expect(err.code, `${method} ${JSON.stringify(req)}`).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(err.details).to.match(field);
      expect(err.reason).to.equal('FERRY_ERR_REQUEST_BAD_REQUEST');
    }
    const missing = await callError(client, 'Logout', { sessionId: 's-unknown' });
    expect(missing.code).to.equal(grpc.status.NOT_FOUND);
  });

  it('answers grpc.health.v1 Check for the server and the AccessGateway service', async () => {
    const health = healthClient(gw.urls.grpc);
    try {
      for (const service of ['', 'ferry.access.v1.AccessGateway']) {
        const res = await new Promise<Res>((resolve, reject) =>
          (health.Check as (r: unknown, cb: (e: Error | null, r: Res) => void) => void).call(
            health,
            { service },
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        );
        expect(res.status).to.equal('SERVING');
      }
    } finally {
      health.close();
    }
  });

  for (const version of ['v1', 'v1alpha'] as const) {
    it(`lists and resolves every service of the port through server reflection ${version}`, async () => {
      const r = reflectionClient(gw.urls.grpc, version);
      try {
        const services = await listServices(r);
        expect([...services].sort()).to.deep.equal([
          'ferry.access.v1.AccessGateway',
          // Registered on the same port by the upstream layer (proto/ferry/v1/upstream.proto).
          'ferry.upstream.v1.Upstream',
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
        ]);
        for (const service of services) {
          const root = descriptorRoot(await fileContainingSymbol(r, service));
          expect(root.lookupService(service).methodsArray.length, service).to.be.greaterThan(0);
        }
      } finally {
        r.close();
      }
    });
  }

  it('answers grpc.health.v1.Health/Check from reflection alone, as grpcurl does without .proto files', async () => {
    const r = reflectionClient(gw.urls.grpc, 'v1');
    const raw = new grpc.Client(gw.urls.grpc, grpc.credentials.createInsecure());
    try {
      const root = descriptorRoot(await fileContainingSymbol(r, 'grpc.health.v1.Health'));
      const check = root.lookupService('grpc.health.v1.Health').methods.Check!;
      check.resolve();
      const [req, res] = [check.resolvedRequestType!, check.resolvedResponseType!];
      const status = root.lookupEnum('grpc.health.v1.HealthCheckResponse.ServingStatus');
      for (const service of ['', 'ferry.access.v1.AccessGateway']) {
        const answer = await new Promise<Record<string, unknown>>((resolve, reject) =>
          raw.makeUnaryRequest(
            '/grpc.health.v1.Health/Check',
            (m: Record<string, unknown>) => Buffer.from(req.encode(req.fromObject(m)).finish()),
            (b: Buffer) => res.toObject(res.decode(b)),
            { service },
            (err, value) => (err ? reject(err) : resolve(value!)),
          ),
        );
        expect(answer.status, service).to.equal(status.values.SERVING);
      }
    } finally {
      r.close();
      raw.close();
    }
  });
});
