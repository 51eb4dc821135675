import { expect } from 'chai';
import type { AccessClient } from '../../../src/access/client.js';
import { DisconnectCode } from '../../../src/errors.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import { accessClient, API_KEY, API_KEY_FLAGS, callUnary } from './support.js';

describe('split roles: --role access and --role message (real ferry processes)', function () {
  this.timeout(30_000);
  let access: GatewayProcess;
  let message: GatewayProcess;
  let client: AccessClient;
  const wires: WireClient[] = [];

  before(async () => {
    access = await GatewayProcess.start([...API_KEY_FLAGS, '--role', 'access'], { grpc: true });
    message = await GatewayProcess.start(
      ['--role', 'message', '--access-url', access.urls.grpc, '--access-caller-key', API_KEY],
      { grpc: true },
    );
    client = accessClient(access.urls.grpc);
  });
  after(async () => {
    for (const w of wires) w.destroy();
    client?.close();
    await message?.cleanup();
    await access?.cleanup();
  });

  it('runs no client listeners on the access node and no gRPC server on the message node', () => {
    expect(access.urls).to.include({ ws: '', tcp: '' });
    expect(access.urls.grpc).to.not.equal('');
    expect(message.urls.grpc).to.equal('');
    expect(message.urls.ws).to.not.equal('');
  });

  it('a message node accepts session tokens from the access node, checked over gRPC', async () => {
    const login = await callUnary(client, 'Login', { userId: 'kim', deviceId: 'phone' });
    const wire = await WireClient.login(message.urls.ws, String(login.sessionToken));
    wires.push(wire);
    const bad = await WireClient.login(message.urls.ws, 'not-a-token').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(bad).to.match(/^auth refused: 4504/);
  });

  it('a message node enforces the grants the access node read from a token, and checks subscription tokens there', async () => {
    // Production defaults on both nodes: topics no rule names need a grant ("auto" with a configured key).
    const login = await callUnary(client, 'Login', { userId: 'gia', deviceId: 'phone', topics: ['room-*'] });
    const gia = await WireClient.login(message.urls.ws, String(login.sessionToken));
    wires.push(gia);
    const ask = async (w: WireClient, frame: Parameters<WireClient['send']>[0]) => {
      const id = w.send(frame);
      return w.next((f) => f.id === id);
    };
    const first = await ask(gia, { subscribe: { topic: 'room-1' } });
    expect(first.body, JSON.stringify(first)).to.equal('reply');
    const denied = await ask(gia, { subscribe: { topic: 'hall' } });
    expect(denied.error?.code).to.equal(103);
    const sub = await callUnary(client, 'IssueSubscriptionToken', { userId: 'gia', topic: 'hall' });
    const ok = await ask(gia, { subscribe: { topic: 'hall', token: String(sub.token) } });
    expect(ok.body, JSON.stringify(ok)).to.equal('reply');
  });

  it('refuses new logins with 4010 (reconnect) while the access node is down, and keeps open connections', async () => {
    const before = await WireClient.login(message.urls.ws, await testToken('lee', { deviceId: 'a' }));
    wires.push(before);
    await access.kill();

    const refused = await WireClient.connect(message.urls.ws);
    wires.push(refused);
    refused.send({
      authenticate: { token: await testToken('lee', { deviceId: 'b' }), deviceId: '', lastSeq: 0 },
    });
    const f = await refused.nextBody('disconnect', 10_000);
    expect(f.disconnect).to.include({ code: DisconnectCode.AUTH_UNAVAILABLE, reconnect: true });
    expect((await refused.waitClosed()).code).to.equal(DisconnectCode.AUTH_UNAVAILABLE);

    const id = before.send({ ping: { timestampMs: Date.now() } });
    const pong = await before.nextBody('pong');
    expect(pong.id).to.equal(id);
    expect(before.closed).to.equal(false);
  });
});
