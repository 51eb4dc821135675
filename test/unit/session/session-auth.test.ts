import { expect } from 'chai';
import { DisconnectCode, ReplyCode } from '../../../src/errors.js';
import { DEVICE_TAKEN_REASON } from '../../../src/session/session.js';
import { REPLACED_REASON } from '../../../src/session/registry.js';
import { SessionHarness, settle } from '../../helpers/session-harness.js';

describe('session: authentication and connection life', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('answers a good Authenticate with AuthResult carrying settings, ids and the resume point', async () => {
    h = await SessionHarness.create({ config: (c) => (c.session.heartbeatMs = 7000) });
    const conn = h.connect({ kind: 'tcp' });
    const token = h.auth.issue('alice', { expiresAtMs: h.clock.ms + 60_000 });
    conn.send({ id: 9, authenticate: { token, deviceId: 'phone' } });
    await settle();
    const [f] = conn.take();
    expect(f?.id).to.equal(9);
    const r = f?.authResult;
    expect(r?.userId).to.equal('alice');
    expect(r?.deviceId).to.equal('phone');
    expect(r?.nodeId).to.equal('node-t');
    expect(r?.sessionId)
      .to.be.a('string')
      .and.match(/^node-t-/);
    expect(r?.heartbeatMs).to.equal(7000);
    expect(r?.idleTimeoutMs).to.equal(h.config.session.idleTimeoutMs);
    expect(r?.maxFrameBytes).to.equal(h.config.limits.maxFrameBytes);
    expect(r?.ackedSeq).to.equal(0);
    expect(r?.expiresAtMs).to.equal(h.clock.ms + 60_000);
    expect(h.manager.stats().sessions).to.deep.include({ tcp: 1, total: 1 });
    expect(await h.metric('ferry_sessions', { transport: 'tcp' })).to.equal(1);
  });

  it('takes the device id from the token, else from Authenticate, else "default"', async () => {
    h = await SessionHarness.create();
    const a = await h.login('u1', { tokenDeviceId: 'from-token', deviceId: 'from-frame' });
    const b = await h.login('u2', { deviceId: 'from-frame' });
    const c = await h.login('u3');
    expect(a.frames()[0]?.authResult?.deviceId).to.equal('from-token');
    expect(b.frames()[0]?.authResult?.deviceId).to.equal('from-frame');
    expect(c.frames()[0]?.authResult?.deviceId).to.equal('default');
  });

  it('closes with 4005 when no Authenticate arrives within the deadline', async () => {
    h = await SessionHarness.create({ config: (c) => (c.auth.deadlineMs = 5000) });
    const conn = h.connect();
    h.clock.advance(4999);
    h.sweep();
    expect(conn.closed).to.equal(null);
    h.clock.advance(1);
    h.sweep();
    expect(conn.closed?.code).to.equal(DisconnectCode.AUTH_TIMEOUT);
    expect(conn.disconnectFrame()).to.deep.include({ code: 4005, reconnect: true });
    expect(await h.metric('ferry_disconnects_total', { code: '4005' })).to.equal(1);
    expect(h.manager.size).to.equal(0);
  });

  it('also times out an Authenticate whose check never completes', async () => {
    h = await SessionHarness.create({ config: (c) => (c.auth.deadlineMs = 1000) });
    h.auth.hang = true;
    const conn = h.connect();
    conn.send({ authenticate: { token: 'whatever' } });
    await settle();
    h.clock.advance(1000);
    h.sweep();
    expect(conn.closed?.code).to.equal(DisconnectCode.AUTH_TIMEOUT);
  });

  it('closes with 4503 when the first frame is not Authenticate', async () => {
    h = await SessionHarness.create();
    const conn = h.connect({ kind: 'tcp' });
    conn.send({ id: 1, send: { toUser: 'x', payload: new Uint8Array(1) } });
    expect(conn.closed?.code).to.equal(DisconnectCode.PROTOCOL_VIOLATION);
    const d = conn.disconnectFrame();
    expect(d?.code).to.equal(4503);
    expect(d?.reconnect).to.equal(false);
    expect(await h.metric('ferry_errors_total', { code: '4503' })).to.equal(1);
  });

  it('closes with 4504 for an unknown token and 4009 (reconnect) for an expired one', async () => {
    h = await SessionHarness.create();
    const bad = h.connect();
    bad.send({ authenticate: { token: 'forged' } });
    await settle();
    expect(bad.closed?.code).to.equal(DisconnectCode.AUTH_FAILED);
    expect(bad.disconnectFrame()?.reconnect).to.equal(false);

    const expired = h.connect();
    expired.send({ authenticate: { token: h.auth.issue('late', { expiresAtMs: h.clock.ms - 1 }) } });
    await settle();
    expect(expired.closed?.code).to.equal(DisconnectCode.TOKEN_EXPIRED);
    expect(expired.disconnectFrame()?.reconnect).to.equal(true);
  });

  it('disconnects with 4009 once the token expires during the session (shared sweep)', async () => {
    h = await SessionHarness.create({ config: (c) => (c.session.idleTimeoutMs = 0) });
    const conn = h.connect();
    conn.send({ authenticate: { token: h.auth.issue('eve', { expiresAtMs: h.clock.ms + 30_000 }) } });
    await settle();
    h.clock.advance(29_999);
    h.sweep();
    expect(conn.closed).to.equal(null);
    h.clock.advance(1);
    h.sweep();
    expect(conn.closed?.code).to.equal(DisconnectCode.TOKEN_EXPIRED);
  });

  it('answers a second Authenticate with ALREADY_AUTHENTICATED and keeps the connection', async () => {
    h = await SessionHarness.create();
    const conn = await h.login('bob');
    conn.send({ id: 4, authenticate: { token: h.auth.issue('bob') } });
    await settle();
    const [f] = conn.take();
    expect(f?.id).to.equal(4);
    expect(f?.error?.code).to.equal(ReplyCode.ALREADY_AUTHENTICATED);
    expect(conn.closed).to.equal(null);
  });

  it('processes frames pipelined behind Authenticate once it succeeds, in order', async () => {
    h = await SessionHarness.create();
    const conn = h.connect();
    conn.send({ id: 1, authenticate: { token: h.auth.issue('pip') } });
    conn.send({ id: 2, ping: { timestampMs: 5 } });
    conn.send({ id: 3, subscribe: { topic: 'news' } });
    await settle();
    expect(conn.take().map((f) => [f.id, f.body])).to.deep.equal([
      [1, 'authResult'],
      [2, 'pong'],
      [3, 'reply'],
    ]);
  });

  it('replace-old: the older session of a device gets 4505 and the new one is registered', async () => {
    h = await SessionHarness.create();
    const old = await h.login('dup', { deviceId: 'phone' });
    const fresh = await h.login('dup', { deviceId: 'phone', kind: 'tcp' });
    expect(old.closed?.code).to.equal(DisconnectCode.REPLACED);
    expect(old.disconnectFrame()?.reason).to.equal(REPLACED_REASON);
    expect(fresh.closed).to.equal(null);
    expect(h.registry.get('dup', 'phone')?.transport).to.equal('tcp');
    const online = (await h.presence.query(['dup'])).get('dup') ?? [];
    expect(online.map((e) => e.transport)).to.deep.equal(['tcp']);
  });

  it('reject-new: the new connection gets 4505 and the old one stays', async () => {
    h = await SessionHarness.create({ config: (c) => (c.auth.duplicateDevice = 'reject-new') });
    const old = await h.login('dup', { deviceId: 'phone' });
    const fresh = h.connect();
    fresh.send({ authenticate: { token: h.auth.issue('dup'), deviceId: 'phone' } });
    await settle();
    expect(fresh.closed?.code).to.equal(DisconnectCode.REPLACED);
    expect(fresh.disconnectFrame()?.reason).to.equal(DEVICE_TAKEN_REASON);
    expect(old.closed).to.equal(null);
    expect(h.manager.stats().sessions.total).to.equal(1);
  });

  it('a client Disconnect closes the connection and unregisters the session', async () => {
    h = await SessionHarness.create();
    const conn = await h.login('leaver');
    conn.send({ disconnect: { code: 4000, reason: 'bye' } });
    expect(conn.closed?.code).to.equal(DisconnectCode.NORMAL);
    expect(h.registry.get('leaver', 'default')).to.equal(undefined);
    expect(h.manager.stats().connections.total).to.equal(0);
  });

  it('answers PresenceQuery with every asked user, online or not', async () => {
    h = await SessionHarness.create();
    const p = await h.login('p-one', { deviceId: 'dev-a', kind: 'tcp' });
    await settle();
    p.send({ id: 8, presenceQuery: { userIds: ['p-one', 'p-nobody'] } });
    await settle();
    const [f] = p.take();
    expect(f?.id).to.equal(8);
    const users = f?.presenceResult?.users ?? [];
    expect(users.map((u) => [u.userId, u.online ?? false])).to.deep.equal([
      ['p-one', true],
      ['p-nobody', false],
    ]);
    expect(users[0]?.devices?.[0]).to.deep.include({ deviceId: 'dev-a', transport: 'tcp', nodeId: 'node-t' });
  });

  it('refuses a Send to a reserved user with 103 naming it, and stores nothing for it', async () => {
    h = await SessionHarness.create();
    const c = await h.login('sender');
    for (const [id, toUser] of [
      [5, 'system'],
      [6, '$ops'],
    ] as const) {
      c.send({ id, send: { toUser, payload: new Uint8Array([1]), qos: 1, clientMsgId: `m${id}` } });
      await settle();
      const [f] = c.take();
      expect(f?.id).to.equal(id);
      expect(f?.error?.code).to.equal(ReplyCode.PERMISSION_DENIED);
      expect(f?.error?.message).to.equal(
        `send.to_user ${JSON.stringify(toUser)} is reserved for the server; no client can receive it`,
      );
      expect(await h.store.lastUserSeq(toUser)).to.equal(0);
    }
    expect(c.closed).to.equal(null);
    expect(await h.metric('ferry_errors_total', { code: '103' })).to.equal(2);
  });

  it('a client message never carries from_service, whatever its sender is called', async () => {
    h = await SessionHarness.create();
    const mimic = await h.login('crm', { deviceId: 'crm' });
    const rcpt = await h.login('rcpt');
    mimic.send({ id: 2, send: { toUser: 'rcpt', payload: new Uint8Array([1]), qos: 1, clientMsgId: 'x' } });
    await settle();
    const [d] = rcpt.delivers();
    expect(d).to.include({ fromUser: 'crm', fromDevice: 'crm' });
    expect(d?.fromService ?? '').to.equal('');
    expect((await h.store.readUser('rcpt', 0, 10))[0]?.fromService).to.equal('');
  });

  it('a kick through the router disconnects the named device with its code', async () => {
    h = await SessionHarness.create();
    const phone = await h.login('k', { deviceId: 'phone' });
    const laptop = await h.login('k', { deviceId: 'laptop' });
    await h.router.kick('k', 'phone', DisconnectCode.KICKED, 'kicked by admin');
    expect(phone.closed?.code).to.equal(DisconnectCode.KICKED);
    expect(phone.disconnectFrame()).to.deep.include({ reason: 'kicked by admin', reconnect: false });
    expect(laptop.closed).to.equal(null);
  });
});
