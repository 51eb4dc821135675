import { expect } from 'chai';
import { EVERYONE_TOPIC, LOGOUT_REASON } from '../../../src/access/access-service.js';
import { AuthError, DisconnectCode, ReplyCode, RequestError } from '../../../src/errors.js';
import { makeHarness, settle, Target, type Harness } from './harness.js';

const caller = { name: 'crm' };
const payload = new TextEncoder().encode('hi');

async function rejects(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

describe('AccessService', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(() => h.close());

  async function online(userId: string, deviceId = 'phone'): Promise<Target> {
    const t = new Target(userId, deviceId);
    h.registry.add(t, 'replace-old');
    await settle();
    return t;
  }

  describe('Login', () => {
    it('issues a session token the transports accept, bound to the device, and records the session', async () => {
      const res = await h.service.login(caller, { credential: 'userId', userId: 'alice', deviceId: 'phone' });
      const id = await h.authenticator.authenticate(String(res.sessionToken));
      expect(id).to.include({ userId: 'alice', deviceId: 'phone' });
      expect(id.claims).to.include({ sid: res.sessionId, typ: 'ferry-session' });
      const rec = await h.tokens.get(String(res.sessionId));
      expect(rec).to.include({ userId: 'alice', deviceId: 'phone', createdBy: 'crm' });
    });

    it('generates a device id when none is given, and caps the lifetime', async () => {
      const res = await h.service.login(caller, { credential: 'userId', userId: 'a' });
      expect(res.deviceId).to.match(/^d-/);
      expect(Number(res.expiresAtMs) - h.clock.now).to.be.within(3_599_000, 3_601_000);
      const e = await rejects(
        h.service.login(caller, { credential: 'userId', userId: 'a', ttlMs: 7_200_000 }),
      );
      expect(e).to.be.instanceOf(RequestError).and.include({ replyCode: ReplyCode.BAD_REQUEST });
    });

    it('verifies a JWT credential and refuses a bad one with AuthError', async () => {
      const first = await h.service.login(caller, { credential: 'userId', userId: 'bob', deviceId: 'x' });
      const res = await h.service.login(caller, { credential: 'jwt', jwt: first.sessionToken });
      expect(res.userId).to.equal('bob');
      expect(await rejects(h.service.login(caller, { credential: 'jwt', jwt: 'garbage' }))).to.be.instanceOf(
        AuthError,
      );
    });

    it('refuses bad ids and labels', async () => {
      for (const req of [
        { credential: 'userId', userId: '' },
        { credential: 'userId', userId: 'x'.repeat(65) },
        { credential: 'userId', userId: 'a\nb' },
        { credential: 'userId', userId: 'a', labels: { k: 'v\u0000' } },
        { credential: 'userId', userId: 'a', deviceId: 'd'.repeat(129) },
        { credential: 'userId', userId: 'a', deviceId: 'д'.repeat(33) },
        { credential: 'userId', userId: '中'.repeat(22) },
        { credential: 'userId', userId: 'a\u0085' },
        { credential: 'userId', userId: 'a\u202eb' },
      ]) {
        const e = await rejects(h.service.login(caller, req));
        expect(e, JSON.stringify(req)).to.be.instanceOf(RequestError);
      }
      const cjk = await rejects(h.service.login(caller, { credential: 'userId', userId: '中'.repeat(22) }));
      expect(cjk.message).to.equal('user_id: is longer than 64 bytes (UTF-8)');
      const rlo = await rejects(h.service.login(caller, { credential: 'userId', userId: 'a\u202eb' }));
      expect(rlo.message).to.equal('user_id: contains U+202E (a format character)');
    });

    it('refuses reserved user ids with INVALID_ARGUMENT, naming the rule', async () => {
      for (const [userId, rule] of [
        ['system', 'auth.reservedUserIds'],
        ['$bot', 'ids starting with "$"'],
      ]) {
        const e = await rejects(h.service.login(caller, { credential: 'userId', userId }));
        expect(e).to.be.instanceOf(RequestError).and.include({ replyCode: ReplyCode.BAD_REQUEST });
        expect(e.message).to.equal(`user_id: ${JSON.stringify(userId)} is reserved for the server (${rule})`);
      }
    });
  });

  describe('Push', () => {
    it('reports delivered / stored / offline per recipient and deduplicates the recipient list', async () => {
      const alice = await online('alice');
      const res = await h.service.push(caller, {
        recipients: [{ userId: 'alice' }, { userId: 'bob' }, { userId: 'alice' }],
        payload,
        qos: 1,
        clientMsgId: 'c1',
      });
      const results = res.results as Record<string, unknown>[];
      expect(results.map((r) => [r.userId, r.status])).to.deep.equal([
        ['alice', 'PUSH_STATUS_DELIVERED'],
        ['bob', 'PUSH_STATUS_STORED'],
      ]);
      expect(alice.got).to.have.length(1);
      expect(alice.got[0]).to.include({ fromUser: 'system', fromDevice: 'crm', fromService: 'crm', seq: 1 });
      // Stored with it too: a replay after reconnect says the same.
      expect((await h.store.readUser('alice', 0, 10))[0]).to.include({ fromService: 'crm' });
      expect((await h.store.readUser('bob', 0, 10)).map((e) => e.clientMsgId)).to.deep.equal(['c1@bob']);

      const q0 = await h.service.push(caller, { recipients: [{ userId: 'bob' }], payload, qos: 0 });
      expect((q0.results as Record<string, unknown>[])[0]).to.include({ status: 'PUSH_STATUS_OFFLINE' });
      expect(await h.store.readUser('bob', 0, 10)).to.have.length(1);
    });

    it('deduplicates a retried QoS-1 push per recipient by client_msg_id', async () => {
      const req = { recipients: [{ userId: 'carl' }], payload, qos: 1, clientMsgId: 'same' };
      await h.service.push(caller, req);
      const again = await h.service.push(caller, req);
      expect((again.results as Record<string, unknown>[])[0]).to.include({ duplicate: true, seq: 1 });
    });

    it('sends as from_user when given', async () => {
      const t = await online('dan');
      await h.service.push(caller, { recipients: [{ userId: 'dan' }], payload, qos: 0, fromUser: 'bot-7' });
      expect(t.got[0]).to.include({ fromUser: 'bot-7', qos: 0, seq: 0, fromService: 'crm' });
    });

    it("may send as a reserved user id (the server side), and still marks the message as the caller's", async () => {
      const t = await online('erin');
      await h.service.push(caller, { recipients: [{ userId: 'erin' }], payload, qos: 0, fromUser: '$ops' });
      expect(t.got[0]).to.include({ fromUser: '$ops', fromService: 'crm' });
    });

    it('marks a recipient FAILED when the router refuses it, without failing the others', async () => {
      const failing = await makeHarness({
        router: (r) => ({
          send: (from, req) =>
            req.toUser === 'bad'
              ? Promise.reject(new RequestError(ReplyCode.UNAVAILABLE, 'store down', { retryable: true }))
              : r.send(from, req),
          publish: (from, req) => r.publish(from, req),
          kick: (...a) => r.kick(...a),
        }),
      });
      try {
        const res = await failing.service.push(caller, {
          recipients: [{ userId: 'bad' }, { userId: 'good' }],
          payload,
          qos: 1,
        });
        expect((res.results as Record<string, unknown>[]).map((r) => [r.status, r.error])).to.deep.equal([
          ['PUSH_STATUS_FAILED', 'FERRY_ERR_REQUEST_UNAVAILABLE'],
          ['PUSH_STATUS_STORED', ''],
        ]);
      } finally {
        await failing.close();
      }
    });

    it('refuses bad QoS, oversized payloads and empty recipient lists', async () => {
      for (const req of [
        { recipients: [{ userId: 'a' }], payload, qos: 2 },
        { recipients: [{ userId: 'a' }], payload: new Uint8Array(1025), qos: 0 },
        { recipients: [], payload, qos: 0 },
        { recipients: 'a', payload, qos: 0 },
      ]) {
        expect(await rejects(h.service.push(caller, req)), JSON.stringify(req.qos)).to.be.instanceOf(
          RequestError,
        );
      }
    });
  });

  it('Broadcast publishes to a topic, or to $all for everyone', async () => {
    const res = await h.service.broadcast(caller, { target: 'everyone', everyone: true, payload, qos: 1 });
    expect(res).to.include({ topic: EVERYONE_TOPIC, seq: 1 });
    const t = await h.service.broadcast(caller, { target: 'topic', topic: 'room', payload, qos: 0 });
    expect(t).to.include({ topic: 'room', seq: 0 });
    expect((await h.store.readTopic(EVERYONE_TOPIC, 0, 10))[0]).to.include({ fromService: 'crm' });
    expect(
      await rejects(h.service.broadcast(caller, { target: 'everyone', everyone: false, payload })),
    ).to.be.instanceOf(RequestError);
  });

  it('Kick disconnects the user (or one device) with the code and counts the devices', async () => {
    const phone = await online('eve', 'phone');
    const pc = await online('eve', 'pc');
    const one = await h.service.kick(caller, { userId: 'eve', deviceId: 'pc', code: 4100, reason: 'bye' });
    expect(one.devices).to.equal(1);
    expect(pc.closed).to.deep.equal({ code: 4100, reason: 'bye' });
    expect(phone.closed).to.equal(null);
    const all = await h.service.kick(caller, { userId: 'eve', code: 0 });
    // The fake sessions never leave presence, so both devices still count.
    expect(all.devices).to.equal(2);
    expect(phone.closed).to.deep.equal({ code: DisconnectCode.KICKED, reason: 'kicked' });
    for (const code of [3999, 5000, 1.5])
      expect(await rejects(h.service.kick(caller, { userId: 'eve', code }))).to.be.instanceOf(RequestError);
    expect(
      await rejects(h.service.kick(caller, { userId: 'eve', reason: 'r'.repeat(121) })),
    ).to.be.instanceOf(RequestError);
  });

  describe('Logout, RefreshToken, Heartbeat', () => {
    it('Logout revokes every token of the session and disconnects its device', async () => {
      const login = await h.service.login(caller, { credential: 'userId', userId: 'fay', deviceId: 'tab' });
      const refreshed = await h.service.refreshToken(caller, { sessionToken: login.sessionToken, ttlMs: 0 });
      const t = await online('fay', 'tab');
      const res = await h.service.logout(caller, { session: 'sessionId', sessionId: login.sessionId });
      expect(res.revoked).to.equal(true);
      expect(t.closed).to.deep.equal({ code: DisconnectCode.NORMAL, reason: LOGOUT_REASON });
      for (const token of [login.sessionToken, refreshed.sessionToken]) {
        const e = await rejects(h.authenticator.authenticate(String(token)));
        expect(e).to.be.instanceOf(AuthError).and.include({ disconnectCode: DisconnectCode.AUTH_FAILED });
      }
      const again = await h.service.logout(caller, {
        session: 'sessionToken',
        sessionToken: login.sessionToken,
      });
      expect(again.revoked).to.equal(false);
      const hb = await h.service.heartbeat(caller, { session: 'sessionId', sessionId: login.sessionId });
      expect(hb.state).to.equal('SESSION_STATE_REVOKED');
      expect(await h.service.listSessions(caller, { userId: 'fay' })).to.deep.include({ sessions: [] });
    });

    it('Heartbeat reports active and connected, then expired after the token lifetime', async () => {
      const login = await h.service.login(caller, {
        credential: 'userId',
        userId: 'gus',
        deviceId: 'd',
        ttlMs: 60_000,
      });
      await online('gus', 'd');
      const req = { session: 'sessionToken', sessionToken: login.sessionToken };
      expect(await h.service.heartbeat(caller, req)).to.include({
        state: 'SESSION_STATE_ACTIVE',
        connected: true,
      });
      h.clock.now += 61_000;
      expect(await h.service.heartbeat(caller, req)).to.include({ state: 'SESSION_STATE_EXPIRED' });
      const e = await rejects(
        h.service.heartbeat(caller, { session: 'sessionId', sessionId: login.sessionId }),
      );
      expect(e).to.be.instanceOf(RequestError).and.include({ replyCode: ReplyCode.NOT_FOUND });
    });

    it('RefreshToken refuses tokens that are not session tokens', async () => {
      const e = await rejects(h.service.refreshToken(caller, { sessionToken: 'x.y.z' }));
      expect(e).to.be.instanceOf(AuthError);
    });
  });

  it('GetPresence and ListSessions report devices with their transport', async () => {
    await h.service.login(caller, {
      credential: 'userId',
      userId: 'hal',
      deviceId: 'p',
      labels: { plan: 'pro' },
    });
    await online('hal', 'p');
    const p = await h.service.getPresence(caller, { userIds: ['hal', 'ida'] });
    const [hal, ida] = p.users as { userId: string; online: boolean; devices: Record<string, unknown>[] }[];
    expect(hal).to.include({ userId: 'hal', online: true });
    expect(hal!.devices).to.have.length(1);
    expect(hal!.devices[0]).to.include({
      deviceId: 'p',
      nodeId: 'n1',
      transport: 'TRANSPORT_WEBSOCKET',
      sinceMs: 1,
    });
    expect(hal!.devices[0]!.connectionId).to.match(/^t\d+$/);
    expect(ida).to.deep.equal({ userId: 'ida', online: false, devices: [] });
    const s = await h.service.listSessions(caller, { userId: 'hal' });
    expect((s.sessions as Record<string, unknown>[])[0]).to.deep.include({
      connected: true,
      labels: { plan: 'pro' },
    });
  });

  it('ValidateToken answers valid with the identity, or invalid with the disconnect code', async () => {
    const login = await h.service.login(caller, {
      credential: 'userId',
      userId: 'jo',
      deviceId: 'k',
      ttlMs: 60_000,
    });
    expect(await h.service.validateToken(caller, { token: login.sessionToken })).to.include({
      valid: true,
      userId: 'jo',
      deviceId: 'k',
    });
    h.clock.now += 120_000;
    expect(await h.service.validateToken(caller, { token: login.sessionToken })).to.include({
      valid: false,
      disconnectCode: DisconnectCode.TOKEN_EXPIRED,
    });
    expect(await h.service.validateToken(caller, { token: '' })).to.include({
      valid: false,
      disconnectCode: DisconnectCode.AUTH_FAILED,
    });
  });

  it('Stats counts calls, pushes and login sessions', async () => {
    h.service.count('Push');
    await h.service.login(caller, { credential: 'userId', userId: 'kay' });
    await h.service.push(caller, { recipients: [{ userId: 'kay' }], payload, qos: 0 });
    const s = await h.service.stats(caller, {});
    expect(s).to.deep.include({
      nodeId: 'n1',
      role: 'all',
      bus: 'memory',
      activeLoginSessions: 1,
      calls: { Push: 1 },
      pushed: { PUSH_STATUS_OFFLINE: 1 },
    });
  });
});
