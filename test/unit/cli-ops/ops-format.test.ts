import { expect } from 'chai';
import { age, formatPush, formatStatus, formatUser, table } from '../../../src/cli-ops/ops-format.js';

describe('ferry operator commands: output', () => {
  it('aligns columns like kubectl get, without trailing spaces', () => {
    expect(
      table(
        ['A', 'LONG'],
        [
          ['xyz', '1'],
          ['q', '22'],
        ],
      ),
    ).to.equal('A    LONG\nxyz  1\nq    22\n');
  });

  it('prints ages in their two largest units', () => {
    expect([age(5), age(75), age(600), age(3700), age(90_000)]).to.deep.equal([
      '5s',
      '1m15s',
      '10m',
      '1h1m',
      '1d1h',
    ]);
  });

  it('status: a cluster line, one row per node, warnings grouped by node', () => {
    const node = {
      ready: true,
      uptimeSeconds: 61,
      connectionsWs: 2,
      connectionsTcp: 1,
      connectionsWt: 0,
      sessions: 3,
      users: 2,
      messagesInPerSec: 1.5,
      messagesOutPerSec: 3,
      qos1Backlog: 4,
      redis: true,
      redisUp: true,
      redisLag: 0,
      warnings: ['w-both'],
    };
    const out = formatStatus({
      nodeId: 'a',
      bus: 'redis-streams',
      nodes: [
        { ...node, nodeId: 'a' },
        { ...node, nodeId: 'b', down: true, redisUp: false, warnings: ['w-both', 'w-b'] },
      ],
    });
    expect(out).to.equal(
      'cluster: 2 nodes (1 ready, 1 down), 3 connections, 2 users, bus redis-streams; answered by a\n\n' +
        'NODE  STATUS  AGE   WS  TCP  WT  SESSIONS  USERS  IN/S  OUT/S  QOS1  REDIS\n' +
        'a     Ready   1m1s  2   1    0   3         2      1.5   3.0    4     up lag=0\n' +
        'b     Down    1m1s  2   1    0   3         2      1.5   3.0    4     DOWN\n' +
        '\nwarnings:\n  all nodes: w-both\n  b: w-b\n',
    );
  });

  it('user and push: devices with node, transport and age; one line per recipient', () => {
    const out = formatUser(
      'ann',
      {
        devices: [
          {
            deviceId: 'd1',
            nodeId: 'n1',
            transport: 'TRANSPORT_WEBTRANSPORT',
            sinceMs: 40_000,
            connectionId: 'c1',
          },
        ],
        sessions: [],
      },
      100_000,
    );
    expect(out).to.equal(
      'user ann: online on 1 device\n\nDEVICE  NODE  TRANSPORT     SINCE   CONNECTION\nd1      n1    webtransport  1m ago  c1\n',
    );
    expect(formatPush({ results: [{ userId: 'ann', status: 'PUSH_STATUS_OFFLINE', seq: 0 }] })).to.equal(
      'ann: offline\n',
    );
  });
});
