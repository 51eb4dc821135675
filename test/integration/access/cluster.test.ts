import { expect } from 'chai';
import type { AccessClient } from '../../../src/access/client.js';
import { DisconnectCode } from '../../../src/errors.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';
import { accessClient, API_KEY_FLAGS, callUnary, presenceOf, PresenceWatch } from './support.js';

describe('access gateway in a cluster (real redis-server, two ferry processes)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let node1: GatewayProcess;
  let node2: GatewayProcess;
  let client: AccessClient;
  const wires: WireClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    const flags = ['--redis', redis.url, '--redis-liveness-ttl', '1s'];
    node1 = await GatewayProcess.start([...flags, '--node-id', 'acc-n1', ...API_KEY_FLAGS], { grpc: true });
    node2 = await GatewayProcess.start([...flags, '--node-id', 'acc-n2']);
    client = accessClient(node1.urls.grpc);
  });
  after(async () => {
    for (const w of wires) w.destroy();
    client?.close();
    await node1?.cleanup();
    await node2?.cleanup();
    await redis?.stop();
  });

  it('a Push through node 1 reaches a user connected to node 2, with presence from Redis', async () => {
    const watch = new PresenceWatch(client, { userIds: ['nina'] });
    await watch.ready;
    const login = await callUnary(client, 'Login', { userId: 'nina', deviceId: 'phone' });
    const wire = await WireClient.login(node2.urls.ws, String(login.sessionToken));
    wires.push(wire);

    const online = await watch.next(presenceOf('ONLINE', 'nina'), 10_000);
    expect(online.device).to.include({ nodeId: 'acc-n2' });
    const p = await callUnary(client, 'GetPresence', { userIds: ['nina'] });
    expect((p.users as { devices: { nodeId: string }[] }[])[0]!.devices.map((d) => d.nodeId)).to.deep.equal([
      'acc-n2',
    ]);

    const res = await callUnary(client, 'Push', {
      recipients: [{ userId: 'nina' }],
      payload: Buffer.from('across nodes'),
      qos: 1,
    });
    expect((res.results as Record<string, unknown>[])[0]).to.include({ status: 'PUSH_STATUS_DELIVERED' });
    const f = await wire.nextBody('deliver', 10_000);
    expect(Buffer.from(f.deliver!.payload!).toString()).to.equal('across nodes');
    // Through the Redis bus (envelope version 2) and the Redis store, from_service stays the key's name.
    expect(f.deliver).to.include({ fromUser: 'system', fromService: 'default' });

    await callUnary(client, 'Kick', { userId: 'nina', reason: 'cluster kick' });
    expect((await wire.waitClosed(10_000)).code).to.equal(DisconnectCode.KICKED);
    await watch.next(presenceOf('OFFLINE', 'nina'), 10_000);
    watch.cancel();
  });
});
