import { expect } from 'chai';
import { clusterEnabled } from '../../../src/cluster/cluster-node.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const load = (flags: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ flags, env, cwd: '/tmp/ferry-no-config-here' });

/** The message of the ConfigError that loading these flags and env throws. */
function msg(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    load(flags, env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config: redis section', () => {
  it('is off by default: a single node with the in-process bus', () => {
    const c = load();
    expect(c.redis.url).to.equal('');
    expect(clusterEnabled(c)).to.equal(false);
  });

  it('turns cluster mode on with --redis, --redis-cluster or FERRY_REDIS_URL', () => {
    expect(load({ redis: 'redis://127.0.0.1:6379' }).redis.url).to.equal('redis://127.0.0.1:6379');
    expect(clusterEnabled(load({ redisCluster: '10.0.0.1:7000,10.0.0.2:7001' }))).to.equal(true);
    expect(load({}, { FERRY_REDIS_URL: 'rediss://h:6380/2' }).redis.url).to.equal('rediss://h:6380/2');
    expect(load({ redisClaimIdle: '2s' }).redis.claimIdleMs).to.equal(2000);
  });

  it('refuses bad values and both modes at once, naming the setting and its source', () => {
    expect(msg({ redis: 'localhost:6379' })).to.include(
      'redis.url (from flag --redis) must be a URL like redis://',
    );
    expect(msg({ redisCluster: 'a:1;b:2' })).to.include(
      'redis.cluster (from flag --redis-cluster) must be a list',
    );
    expect(msg({ redis: 'redis://a:1', redisCluster: 'b:2' })).to.include('are both set');
    expect(msg({ redisLivenessTtl: '10ms' })).to.include('redis.livenessTtlMs');
  });

  it('sets the data guard by flag, env or file: check period and audit size, validated', () => {
    expect(load().redis).to.include({ dataCheckMs: 5000, lossAuditSize: 100_000 });
    expect(load({ redisDataCheck: '0' }).redis.dataCheckMs).to.equal(0);
    expect(load({}, { FERRY_REDIS_DATA_CHECK: '2s' }).redis.dataCheckMs).to.equal(2000);
    expect(load({ redisLossAuditSize: '500' }).redis.lossAuditSize).to.equal(500);
    expect(() => load({}, { FERRY_REDIS_LOSS_AUDIT_SIZE: '-1' })).to.throw(
      ConfigError,
      /redis\.lossAuditSize \(from env FERRY_REDIS_LOSS_AUDIT_SIZE\)/,
    );
    expect(() => load({ redisDataCheck: '2h' })).to.throw(
      ConfigError,
      /redis\.dataCheckMs \(from flag --redis-data-check\)/,
    );
  });

  it('takes Redis Sentinel: sentinels and the master name, from flags or env', () => {
    const c = load({ redisSentinel: '10.0.0.1:26379,10.0.0.2:26379', redisMasterName: 'ferry-main' });
    expect(c.redis).to.include({ sentinel: '10.0.0.1:26379,10.0.0.2:26379', masterName: 'ferry-main' });
    expect(clusterEnabled(c)).to.equal(true);
    const e = load({}, { FERRY_REDIS_SENTINEL: 's1:26379', FERRY_REDIS_MASTER_NAME: 'm' });
    expect(e.redis).to.include({ sentinel: 's1:26379', masterName: 'm' });
  });

  it('refuses Sentinel without its master name, a master name alone, and two Redis modes at once', () => {
    expect(msg({ redisSentinel: 's1:26379' })).to.include(
      'redis.sentinel (from flag --redis-sentinel) needs redis.masterName',
    );
    expect(msg({ redisMasterName: 'm' })).to.include(
      'redis.masterName (from flag --redis-master-name) is set without redis.sentinel',
    );
    expect(msg({ redisSentinel: 's1:1', redisMasterName: 'm', redis: 'redis://a:1' })).to.include(
      'redis.url (from flag --redis) and redis.sentinel (from flag --redis-sentinel) are both set',
    );
    expect(msg({ redisSentinel: 's1', redisMasterName: 'm' })).to.include(
      'redis.sentinel (from flag --redis-sentinel) must be a list like',
    );
    expect(msg({ redisSentinel: 's1:1', redisMasterName: 'has space' })).to.include('redis.masterName');
  });
});

describe('config: store.durability', () => {
  it('defaults to ack-after-write; ack-after-replica takes its replica count and timeout', () => {
    expect(load().store).to.include({ durability: 'ack-after-write', replicas: 1, replicaTimeoutMs: 1000 });
    const c = load(
      { redis: 'redis://127.0.0.1:6379', durability: 'ack-after-replica', durabilityReplicas: '2' },
      { FERRY_DURABILITY_TIMEOUT: '250ms' },
    );
    expect(c.store).to.include({ durability: 'ack-after-replica', replicas: 2, replicaTimeoutMs: 250 });
  });

  it('refuses ack-after-replica without Redis, and out-of-range numbers', () => {
    expect(msg({ durability: 'ack-after-replica' })).to.include(
      'store.durability (from flag --durability) is ack-after-replica, which needs Redis with replicas',
    );
    expect(msg({ durability: 'fsync' })).to.include(
      'store.durability (from flag --durability) must be one of ack-after-write, ack-after-replica',
    );
    expect(msg({ durabilityReplicas: '0' })).to.include('store.replicas');
    expect(msg({}, { FERRY_DURABILITY_TIMEOUT: '0' })).to.include(
      'store.replicaTimeoutMs (from env FERRY_DURABILITY_TIMEOUT)',
    );
  });
});
