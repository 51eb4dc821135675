import { expect } from 'chai';
import { clusterEnabled } from '../../../src/cluster/cluster-node.js';
import { loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';

const load = (flags: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ flags, env, cwd: '/tmp/ferry-no-config-here' });

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
    const msg = (flags: Record<string, unknown>): string => {
      try {
        load(flags);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
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
});
