import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import {
  parseRange,
  parseRouteTarget,
  parseUpstreamKind,
  routeProblems,
  RouteTable,
} from '../../../src/upstream/route-table.js';

describe('upstream/route-table', () => {
  const services = { logic: 'grpc', chat: 'redis' };

  it('maps types to services by range, with priorities, and leaves gaps unrouted', () => {
    const t = RouteTable.build(
      { '1000-1999': 'logic', '2000-2999': 'chat:high', '42': 'gateway:critical' },
      services,
    );
    expect(t.lookup(1000)).to.include({ service: 'logic', priority: 'normal' });
    expect(t.lookup(1999)?.service).to.equal('logic');
    expect(t.lookup(2500)).to.include({ service: 'chat', priority: 'high' });
    expect(t.lookup(42)).to.include({ service: 'gateway', priority: 'critical' });
    for (const gap of [1, 41, 43, 999, 3000, 0xffff_ffff])
      expect(t.lookup(gap), String(gap)).to.equal(undefined);
    expect(t.services.get('gateway')).to.equal('gateway');
    expect(t.describe()[0]).to.deep.equal({
      types: '42',
      service: 'gateway',
      kind: 'gateway',
      priority: 'critical',
    });
  });

  it('refuses overlaps, bad ranges, unknown services and bad kinds, naming each', () => {
    const problems = routeProblems(
      { '1-10': 'logic', '5-20': 'chat', abc: 'logic', '9-3': 'logic', '30': 'nope', '40': 'logic:urgent' },
      { ...services, 'bad name': 'grpc', x: 'kafka' },
    );
    const text = problems.join('\n');
    expect(text).to.match(/routes 1-10 and 5-20 overlap/);
    expect(text).to.match(/"abc" must be a message type or range/);
    expect(text).to.match(/"9-3" must be a message type or range/);
    expect(text).to.match(/routes.30 names service "nope"/);
    expect(text).to.match(/routes.40 must be a priority/);
    expect(text).to.match(/upstream.services key "bad name"/);
    expect(text).to.match(/upstream.services.x must be one of grpc, redis, amqp, gateway/);
    expect(() => RouteTable.build({ '1-10': 'logic', '10-20': 'logic' }, services)).to.throw(
      ConfigError,
      /overlap/,
    );
  });

  it('parses ranges within 1..2^32-1 only', () => {
    expect(parseRange('7')).to.deep.equal([7, 7]);
    expect(parseRange(' 1-4294967295 ')).to.deep.equal([1, 0xffff_ffff]);
    for (const bad of ['0', '0-5', '1-4294967296', '-1', '1-', '1..2', ''])
      expect(parseRange(bad), bad).to.equal(undefined);
  });

  it('parses config values with clear expectations', () => {
    expect(parseRouteTarget('chat:low')).to.deep.equal({ ok: true, value: 'chat:low' });
    expect(parseRouteTarget(5).ok).to.equal(false);
    expect(parseRouteTarget('a:b:c').ok).to.equal(false);
    expect(parseUpstreamKind('redis').ok).to.equal(true);
    expect(parseUpstreamKind('http')).to.deep.equal({
      ok: false,
      expected: 'one of grpc, redis, amqp, gateway',
    });
  });
});
