import { expect } from 'chai';
import { defaultConfig } from '../../../src/config/schema.js';
import { percentiles } from '../../../src/console/node-sampler.js';
import { riskySettings } from '../../../src/console/risky-settings.js';
import { MemorySampleStore } from '../../../src/console/sample-store.js';
import type { NodeSample } from '../../../src/console/index.js';

function buckets(entries: [number, number][]): Map<number, number> {
  return new Map(entries);
}

describe('console: node sampler', () => {
  describe('percentiles', () => {
    it('reads p50/p90/p99 of the interval from cumulative bucket counts, as bucket upper bounds in ms', () => {
      const before = buckets([
        [0.001, 10],
        [0.005, 10],
        [0.025, 10],
        [Infinity, 10],
      ]);
      // 100 observations in the interval: 60 under 1 ms, 35 under 5 ms, 5 under 25 ms.
      const now = buckets([
        [0.001, 70],
        [0.005, 105],
        [0.025, 110],
        [Infinity, 110],
      ]);
      expect(percentiles(now, before)).to.deep.equal({ p50: 1, p90: 5, p99: 25 });
    });

    it('is null when nothing was observed, and names the largest finite bound past it', () => {
      const b = buckets([
        [0.001, 3],
        [Infinity, 3],
      ]);
      expect(percentiles(b, b)).to.equal(null);
      expect(
        percentiles(
          buckets([
            [0.001, 0],
            [Infinity, 4],
          ]),
          buckets([
            [0.001, 0],
            [Infinity, 0],
          ]),
        ),
      ).to.deep.equal({ p50: 1, p90: 1, p99: 1 });
    });
  });

  describe('risky settings', () => {
    it('flags the development defaults of a zero-config node', () => {
      const w = riskySettings(defaultConfig());
      expect(
        w.some((x) => x.startsWith('client tokens are checked with the generated development secret')),
      ).to.equal(true);
      expect(w.some((x) => x.startsWith('gRPC callers use the generated development API key'))).to.equal(
        true,
      );
      expect(w.some((x) => x.startsWith('open: every user may subscribe'))).to.equal(true);
      expect(w.some((x) => x.startsWith('the admin port is bound beyond loopback'))).to.equal(false);
    });

    it('is empty for a production-shaped config, and flags an admin port beyond loopback', () => {
      const c = defaultConfig();
      c.auth.hmacSecrets = { k1: 'a-production-secret-0123456789abcdef' };
      c.access.apiKeys = { backend: 'backend-key-0123456789abcdef' };
      c.admin.apiKey = 'admin-key-0123456789abcdef';
      expect(riskySettings(c)).to.deep.equal([]);
      c.admin.host = '0.0.0.0';
      expect(riskySettings(c)).to.deep.equal([
        'the admin port is bound beyond loopback (admin.host 0.0.0.0)',
        '/metrics is readable without the admin key on a non-loopback admin port (admin.metricsAuth)',
      ]);
    });
  });

  describe('MemorySampleStore', () => {
    it('returns samples after `since`, the newest whatever its age, and marks a silent node down', async () => {
      const store = new MemorySampleStore();
      const sample = (t: number): NodeSample => ({ nodeId: 'n', t }) as NodeSample;
      await store.put(sample(1000));
      await store.put(sample(3000));
      const [s] = await store.read(1000, 4000);
      expect(s!.samples.map((x) => x.t)).to.deep.equal([3000]);
      expect(s!.latest.t).to.equal(3000);
      expect(s!.down).to.equal(false);
      expect((await store.read(5000, 30_000))[0]).to.deep.include({ samples: [], down: true });
    });
  });
});
