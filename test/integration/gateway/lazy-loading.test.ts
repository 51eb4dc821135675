import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

const MODULE_LOG_HOOKS = fileURLToPath(new URL('../../fixtures/module-log/register.mjs', import.meta.url));

/** What a node loads only when it runs the part: a package entry or one of Ferry's own modules. */
const OPTIONAL_PARTS = {
  'gRPC access API': [
    '/node_modules/@grpc/grpc-js/',
    '/node_modules/@grpc/reflection/',
    '/dist/access/server.js',
  ],
  'gRPC health checking': ['/node_modules/grpc-health-check/'],
  'WebTransport stack': ['/dist/webtransport/', '/dist/transport/webtransport/'],
  'QUIC engine': ['/node_modules/@matrixai/quic/', '/dist/webtransport/quic/'],
  'AMQP upstream': ['/node_modules/amqplib/', '/dist/upstream/amqp-link.js'],
  'Redis client': ['/node_modules/redis/', '/dist/cluster/cluster-node.js'],
} as const;
type Part = keyof typeof OPTIONAL_PARTS;

/** Starts a node with the module-log hooks preloaded; resolves once it is up, with what it loaded. */
async function startLogged(
  args: string[],
  opts: Parameters<typeof GatewayProcess.start>[1],
): Promise<{ gw: GatewayProcess; loaded: (part: Part) => string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-modules-'));
  const log = join(dir, 'modules.log');
  const gw = await GatewayProcess.start(args, {
    ...opts,
    env: { NODE_OPTIONS: `--import ${MODULE_LOG_HOOKS}`, FERRY_TEST_MODULE_LOG: log },
  });
  // "ferry started" is logged after every listener is bound: start-up's imports are all in the file.
  const urls = readFileSync(log, 'utf8').split('\n');
  rmSync(dir, { recursive: true, force: true });
  const loaded = (part: Part): string[] =>
    urls.filter((u) => OPTIONAL_PARTS[part].some((fragment) => u.includes(fragment)));
  return { gw, loaded };
}

/**
 * A node loads the code of an optional part only when that part runs: the bench's and a typical
 * cluster node's `--no-grpc --no-wt --redis` loads neither gRPC nor WebTransport, and a zero-config
 * node (every listener, gRPC, no Redis) loads them but not the Redis client. Each package costs
 * megabytes of heap for as long as the process lives (bench/RESULTS.md, issue 16, item 5).
 */
describe('a node loads only the parts it runs', function () {
  this.timeout(30_000 * TIME_FACTOR);
  let redis: RedisServer;
  const nodes: GatewayProcess[] = [];

  before(async function () {
    redis = await startRedisServer();
  });
  after(async function () {
    for (const gw of nodes) await gw.cleanup();
    await redis?.stop();
  });

  it('--no-grpc --no-wt --redis: no gRPC, WebTransport, QUIC or AMQP code', async function () {
    const { gw, loaded } = await startLogged(['--redis', redis.url, '--node-id', 'lazy-1'], {});
    nodes.push(gw);
    expect(loaded('Redis client'), 'the Redis client is loaded').to.have.length.above(0);
    for (const part of [
      'gRPC access API',
      'gRPC health checking',
      'WebTransport stack',
      'QUIC engine',
      'AMQP upstream',
    ] as const)
      expect(loaded(part), `${part} is not loaded`).to.deep.equal([]);
  });

  it('zero config: gRPC and WebTransport are loaded and run, the Redis client is not loaded', async function () {
    const { gw, loaded } = await startLogged([], { wt: true, grpc: true, authSecret: false });
    nodes.push(gw);
    expect(gw.urls.grpc).to.not.equal('');
    expect(gw.urls.wt).to.not.equal('');
    for (const part of [
      'gRPC access API',
      'gRPC health checking',
      'WebTransport stack',
      'QUIC engine',
    ] as const)
      expect(loaded(part), `${part} is loaded`).to.have.length.above(0);
    expect(loaded('Redis client')).to.deep.equal([]);
    expect(loaded('AMQP upstream')).to.deep.equal([]);
  });
});
