import { expect } from 'chai';
import { main } from '../../../src/cli/cli.js';
import { DisconnectCode } from '../../../src/errors.js';
import { SampleWatch } from '../../helpers/console-samples.js';
import { GatewayProcess, OPEN_PERMISSIONS, testToken } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WireClient } from '../../helpers/wire-client.js';

const API_KEY = 'ops-cli-test-key-0123456789abcdef';

/** Runs `ferry ARGS` in-process; resolves with what it printed and its exit code (0 when none). */
async function ferry(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  await main(['node', 'ferry', ...args], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    exit: (c) => void (code = c),
    env,
    cwd: process.cwd(),
  });
  return { out, err, code };
}

describe('ferry status / user / kick / push / broadcast (two nodes, real Redis, gRPC)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let n1: GatewayProcess;
  let n2: GatewayProcess;
  let samples: SampleWatch;
  const wires: WireClient[] = [];
  let target: string[];

  before(async () => {
    redis = await startRedisServer();
    samples = await SampleWatch.start(redis.url);
    const flags = ['--redis', redis.url, '--access-api-key', API_KEY, ...OPEN_PERMISSIONS];
    n1 = await GatewayProcess.start([...flags, '--node-id', 'ops-n1'], { grpc: true });
    n2 = await GatewayProcess.start([...flags, '--node-id', 'ops-n2'], { grpc: true });
    target = ['--server', n1.urls.grpc, '--api-key', API_KEY];
  });
  after(async () => {
    for (const w of wires) w.destroy();
    await samples?.close();
    await n1?.cleanup();
    await n2?.cleanup();
    await redis?.stop();
  });

  it('status lists both nodes with the connections each has, from any node', async () => {
    const wire = await WireClient.login(n2.urls.ws, await testToken('ops-ann', { deviceId: 'laptop' }));
    wires.push(wire);
    const tcp = await WireClient.login(n2.urls.tcp, await testToken('ops-ann', { deviceId: 'phone' }));
    wires.push(tcp);
    await samples.next('ops-n2');
    await samples.next('ops-n1');
    const { out, code } = await ferry(['status', ...target]);
    expect(code).to.equal(0);
    expect(out).to.match(/^cluster: 2 nodes \(2 ready, 0 down\), 2 connections, 1 users, bus redis-streams/);
    const rows = out.split('\n');
    const header = rows.find((r) => r.startsWith('NODE'))!;
    expect(header.split(/\s+/)).to.deep.equal([
      'NODE',
      'STATUS',
      'AGE',
      'WS',
      'TCP',
      'WT',
      'SESSIONS',
      'USERS',
      'IN/S',
      'OUT/S',
      'QOS1',
      'REDIS',
    ]);
    const n2row = rows.find((r) => r.startsWith('ops-n2'))!.split(/\s+/);
    expect(n2row.slice(1, 2)).to.deep.equal(['Ready']);
    expect(n2row.slice(3, 8)).to.deep.equal(['1', '1', '0', '2', '1']);
    expect(n2row[11]).to.match(/^up$/);
    const n1row = rows.find((r) => r.startsWith('ops-n1'))!.split(/\s+/);
    expect(n1row.slice(3, 8)).to.deep.equal(['0', '0', '0', '0', '0']);
    // Risky settings: both nodes run with the open permissions these flags give.
    expect(out).to.include('all nodes: open: every user may subscribe');

    const json = await ferry(['status', '--json', ...target]);
    const nodes = (JSON.parse(json.out) as { nodes: { nodeId: string; connectionsWs: number }[] }).nodes;
    expect(nodes.map((x) => x.nodeId)).to.deep.equal(['ops-n1', 'ops-n2']);
  });

  it('user shows the devices of a user on the other node; push and kick reach them', async () => {
    const wire = await WireClient.login(n2.urls.ws, await testToken('ops-bo', { deviceId: 'tablet' }));
    wires.push(wire);
    const other = await WireClient.login(n2.urls.ws, await testToken('ops-bo', { deviceId: 'desk' }));
    wires.push(other);
    const user = await ferry(['user', 'ops-bo', ...target]);
    expect(user.code).to.equal(0);
    expect(user.out).to.match(/^user ops-bo: online on 2 devices/);
    const tablet = user.out
      .split('\n')
      .find((l) => l.startsWith('tablet'))!
      .split(/\s+/);
    expect(tablet.slice(0, 3)).to.deep.equal(['tablet', 'ops-n2', 'websocket']);

    const push = await ferry(['push', 'ops-bo', 'hello from ops', ...target]);
    expect(push.out).to.match(/^ops-bo: delivered \(seq \d+/);
    const f = await wire.nextBody('deliver', 10_000);
    expect(Buffer.from(f.deliver!.payload!).toString()).to.equal('hello from ops');
    expect(f.deliver).to.include({ fromUser: 'system', fromService: 'default' });

    const kick = await ferry(['kick', 'ops-bo', '--device', 'tablet', ...target]);
    expect(kick.out).to.equal('kicked ops-bo device tablet: 1 device(s) were online\n');
    expect((await wire.waitClosed(10_000)).code).to.equal(DisconnectCode.KICKED);
    expect(other.closed).to.equal(false);
  });

  it('broadcast reaches a subscriber on the other node', async () => {
    const sub = await WireClient.login(n2.urls.ws, await testToken('ops-cy'));
    wires.push(sub);
    const id = sub.send({ subscribe: { topic: 'ops-news' } });
    expect((await sub.next((f) => f.id === id)).body).to.equal('reply');
    const b = await ferry(['broadcast', 'ops-news', 'maintenance at 18:00', ...target]);
    expect(b.code).to.equal(0);
    expect(b.out).to.match(/^published to ops-news: seq \d+/);
    const f = await sub.nextBody('deliver', 10_000);
    expect(f.deliver?.topic).to.equal('ops-news');
    expect(Buffer.from(f.deliver!.payload!).toString()).to.equal('maintenance at 18:00');
  });

  it('says clearly when the server is unreachable, the key is wrong, or no key is given', async () => {
    const down = await ferry([
      'status',
      '--server',
      '127.0.0.1:1',
      '--api-key',
      API_KEY,
      '--timeout',
      '3000',
    ]);
    expect(down.code).to.equal(1);
    expect(down.err).to.match(
      /^ferry: cannot reach the access API at 127\.0\.0\.1:1 \(.*\): is a node running there/,
    );
    const wrong = await ferry(['status', '--server', n1.urls.grpc], {
      FERRY_API_KEY: 'not-the-key-0123456789',
    });
    expect(wrong.code).to.equal(1);
    expect(wrong.err).to.match(/^ferry: the access API at .* refused the API key from FERRY_API_KEY/);
    const none = await ferry(['status', '--data-dir', '/nonexistent-ferry-dir'], {
      FERRY_SERVER: n1.urls.grpc,
    });
    expect(none.code).to.equal(2);
    expect(none.err).to.match(/^no API key: pass --api-key or set FERRY_API_KEY/);
    const env = await ferry(['user', 'nobody-here'], { FERRY_SERVER: n1.urls.grpc, FERRY_API_KEY: API_KEY });
    expect(env).to.deep.include({ code: 0, out: 'user nobody-here: offline\n' });
  });
});
