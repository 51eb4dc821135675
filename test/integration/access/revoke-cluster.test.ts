import { expect } from 'chai';
import type { AccessClient } from '../../../src/access/client.js';
import { DisconnectCode } from '../../../src/errors.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';
import { accessClient, API_KEY_FLAGS, callUnary } from './support.js';

type Res = Record<string, unknown>;

describe('Logout in a cluster (real redis-server, two ferry processes)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let node1: GatewayProcess;
  let node2: GatewayProcess;
  let client1: AccessClient;
  let client2: AccessClient;
  const wires: WireClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    const flags = ['--redis', redis.url, '--redis-liveness-ttl', '1s', ...API_KEY_FLAGS];
    node1 = await GatewayProcess.start([...flags, '--node-id', 'rev-n1'], { grpc: true });
    node2 = await GatewayProcess.start([...flags, '--node-id', 'rev-n2'], { grpc: true });
    client1 = accessClient(node1.urls.grpc);
    client2 = accessClient(node2.urls.grpc);
  });
  after(async () => {
    for (const w of wires) w.destroy();
    client1?.close();
    client2?.close();
    await node1?.cleanup();
    await node2?.cleanup();
    await redis?.stop();
  });

  it('a session logged in through node 1 is listed and refreshed through node 2', async () => {
    const login = await callUnary(client1, 'Login', { userId: 'omar', deviceId: 'tablet' });
    const list = await callUnary(client2, 'ListSessions', { userId: 'omar' });
    expect((list.sessions as Res[]).map((s) => s.sessionId)).to.deep.equal([login.sessionId]);
    const fresh = await callUnary(client2, 'RefreshToken', { sessionToken: login.sessionToken });
    expect(fresh).to.include({ sessionId: login.sessionId, userId: 'omar', deviceId: 'tablet' });
    const wire = await WireClient.login(node1.urls.ws, String(fresh.sessionToken));
    wires.push(wire);
  });

  it('Logout through node 1 disconnects the device on node 2 (4000) and node 2 then refuses the token (4504)', async () => {
    const login = await callUnary(client1, 'Login', { userId: 'pia', deviceId: 'phone' });
    const wire = await WireClient.login(node2.urls.ws, String(login.sessionToken));
    wires.push(wire);

    const res = await callUnary(client1, 'Logout', { sessionToken: login.sessionToken });
    expect(res.revoked).to.equal(true);
    const closed = await wire.waitClosed(10_000);
    expect(closed.code).to.equal(DisconnectCode.NORMAL);

    // No waiting: the revocation is in Redis before Logout returns, and node 2 does not cache answers.
    const refused = await WireClient.login(node2.urls.ws, String(login.sessionToken)).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(refused).to.match(/^auth refused: 4504 session revoked/);

    const hb = await callUnary(client2, 'Heartbeat', { sessionToken: login.sessionToken });
    expect(hb.state).to.equal('SESSION_STATE_REVOKED');
    const again = await callUnary(client2, 'Logout', { sessionId: login.sessionId });
    expect(again.revoked).to.equal(false);
    const v = await callUnary(client2, 'ValidateToken', { token: login.sessionToken });
    expect(v).to.include({ valid: false, disconnectCode: DisconnectCode.AUTH_FAILED });
    const list = await callUnary(client2, 'ListSessions', { userId: 'pia' });
    expect(list.sessions).to.deep.equal([]);
  });
});
