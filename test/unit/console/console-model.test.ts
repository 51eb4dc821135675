import { expect } from 'chai';
import { aggregate, buildProblems, disconnectTotals, type Merged } from '../../../client/console/model.js';
import type { NodeSample } from '../../../src/console/index.js';

function sample(nodeId: string, t: number, extra: Partial<NodeSample> = {}): NodeSample {
  return {
    nodeId,
    t,
    ready: true,
    draining: false,
    uptimeSeconds: 1,
    connections: { ws: 0, tcp: 0, wt: 0 },
    sessions: 0,
    users: 0,
    inPerSec: 0,
    outPerSec: 0,
    qos1Backlog: 0,
    latencyMs: null,
    eventLoopP99Ms: 0,
    rssBytes: 0,
    redis: { up: true, lag: 0, pending: 0, memoryBytes: 0 },
    upstream: [],
    disconnects: {},
    warnings: [],
    ...extra,
  };
}

function merged(samples: NodeSample[], down = false): Merged {
  return { samples, latest: samples[samples.length - 1]!, down };
}

describe('console page model', () => {
  it('puts nodes whose samples are taken at different moments on one 2-second axis', () => {
    const { xs, byNode } = aggregate(
      [
        ['a', merged([sample('a', 10_100), sample('a', 12_100)])],
        ['b', merged([sample('b', 11_900), sample('b', 13_900)])],
      ],
      15 * 60_000,
    );
    expect(xs).to.deep.equal([10_000, 12_000]);
    expect(byNode.get('a')!.map((s) => s?.t)).to.deep.equal([10_100, 12_100]);
    expect(byNode.get('b')!.map((s) => s?.t)).to.deep.equal([11_900, 13_900]);
  });

  it('lists a down node and a node without Redis first, then each risky setting once', () => {
    const problems = buildProblems([
      ['a', merged([sample('a', 1000, { warnings: ['w1'] })], true)],
      [
        'b',
        merged([
          sample('b', 1000, {
            warnings: ['w1', 'w2'],
            redis: { up: false, lag: 0, pending: 0, memoryBytes: -1 },
          }),
        ]),
      ],
    ]);
    expect(problems.map((p) => p.kind)).to.deep.equal(['node-down', 'redis-down', 'setting', 'setting']);
    expect(problems.slice(2).map((p) => p.text)).to.deep.equal(['all nodes: w1', 'b: w2']);
  });

  it('sums disconnect codes over every sample of every node, largest first', () => {
    const totals = disconnectTotals([
      merged([
        sample('a', 1, { disconnects: { '4506 KICKED': 1 } }),
        sample('a', 2, { disconnects: { '4003 SLOW_CONSUMER': 3 } }),
      ]),
      merged([sample('b', 1, { disconnects: { '4506 KICKED': 1 } })]),
    ]);
    expect(totals).to.deep.equal([
      ['4003 SLOW_CONSUMER', 3],
      ['4506 KICKED', 2],
    ]);
  });
});
