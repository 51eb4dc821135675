import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

/** Names a query may use that are not Ferry's: Prometheus's own scrape health. */
const PROMETHEUS_OWN = new Set(['up']);
const SUFFIXES = ['_bucket', '_sum', '_count'];

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

/** Metric names a PromQL expression names (Ferry's, and bare `up`). */
function metricNames(expr: string): string[] {
  const names = new Set(expr.match(/\bferry_[a-z0-9_]+/g) ?? []);
  if (/\bup\{/.test(expr)) names.add('up');
  return [...names];
}

/** GitHub's anchor of a Markdown heading: lower case, spaces to dashes, punctuation dropped. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('deploy/prometheus/alerts.yml and deploy/grafana/ferry.json against a running node', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let node: GatewayProcess;
  /** Metric family name -> type, from the node's /metrics. */
  const families = new Map<string, string>();

  before(async () => {
    redis = await startRedisServer();
    node = await GatewayProcess.start(['--redis', redis.url], { grpc: true });
    const text = (await node.admin('/metrics')).body;
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  });
  after(async () => {
    await node?.cleanup();
    await redis?.stop();
  });

  /** The names in `names` that /metrics does not have (a histogram's series count as its family). */
  function missing(names: string[]): string[] {
    return names.filter((name) => {
      if (PROMETHEUS_OWN.has(name) || families.has(name)) return false;
      const suffix = SUFFIXES.find((s) => name.endsWith(s));
      return suffix === undefined || families.get(name.slice(0, -suffix.length)) !== 'histogram';
    });
  }

  it('every alert names only metrics the node exports, and has a severity, a summary and a runbook', () => {
    const doc = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as {
      groups: { rules: Rule[] }[];
    };
    const rules = doc.groups.flatMap((g) => g.rules);
    const wanted = [
      'FerryNodeDown',
      'FerryRedisDown',
      'FerryQos1BacklogGrowing',
      'FerryDisconnectStorm',
      'FerrySlowConsumers',
    ];
    expect(rules.map((r) => r.alert)).to.include.members(wanted);
    const runbooks = anchors(readFileSync('docs/operations.md', 'utf8'));
    for (const r of rules) {
      const names = metricNames(r.expr);
      expect(names.length, r.alert).to.be.greaterThan(0);
      expect(missing(names), r.alert).to.deep.equal([]);
      expect(['critical', 'warning'], r.alert).to.include(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).to.be.a('string');
      if (r.for !== undefined) expect(r.for, r.alert).to.match(/^\d+[smh]$/);
      // The runbook is the section of docs/operations.md named after the alert.
      expect(r.annotations?.runbook, r.alert).to.equal(`docs/operations.md#${r.alert.toLowerCase()}`);
      expect(runbooks.has(r.alert.toLowerCase()), `docs/operations.md has a "${r.alert}" section`).to.equal(
        true,
      );
    }
  });

  it('every dashboard query names only metrics the node exports; the issue asks for these panels', () => {
    const dash = JSON.parse(readFileSync('deploy/grafana/ferry.json', 'utf8')) as {
      panels: Panel[];
      uid: string;
    };
    const panels = dash.panels.filter((p) => p.type !== 'row');
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).to.be.greaterThan(20);
    for (const { title, expr } of exprs)
      expect(missing(metricNames(expr)), `${title}: ${expr}`).to.deep.equal([]);
    const all = exprs.map((e) => e.expr).join('\n');
    for (const needed of [
      'ferry_messages_accepted_total',
      'ferry_delivery_latency_seconds_bucket',
      'ferry_connections',
      'ferry_cluster_stream_lag',
      'ferry_errors_total',
      'ferry_disconnects_total',
      'ferry_nodejs_eventloop_lag_p99_seconds',
    ])
      expect(all, needed).to.include(needed);
  });
});
