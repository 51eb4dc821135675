/** What the console page computes from samples: time buckets, problems, totals, and number formats. */
import type { NodeSample } from './types.js';

/** One node's samples as the page keeps them (oldest first). */
export interface Merged {
  samples: NodeSample[];
  latest: NodeSample;
  down: boolean;
}

/** Samples are put in 2-second buckets so nodes' series share one x axis. */
const BUCKET_MS = 2000;

/** Bucket start times over the window, and each node's sample per bucket (the newest in it). */
export function aggregate(
  nodes: [string, Merged][],
  historyMs: number,
): { xs: number[]; byNode: Map<string, (NodeSample | undefined)[]> } {
  const all = nodes.flatMap(([, m]) => m.samples);
  const newest = Math.max(0, ...all.map((s) => s.t));
  const end = Math.floor(newest / BUCKET_MS) * BUCKET_MS;
  const oldest = Math.min(end, ...all.map((s) => Math.floor(s.t / BUCKET_MS) * BUCKET_MS));
  const start = Math.max(oldest, end - historyMs);
  const xs: number[] = [];
  for (let t = start; t <= end; t += BUCKET_MS) xs.push(t);
  const byNode = new Map<string, (NodeSample | undefined)[]>();
  for (const [id, m] of nodes) {
    const row: (NodeSample | undefined)[] = xs.map(() => undefined);
    for (const s of m.samples) {
      const i = Math.floor(s.t / BUCKET_MS) - Math.floor(start / BUCKET_MS);
      if (i >= 0 && i < row.length) row[i] = s;
    }
    byNode.set(id, row);
  }
  return { xs, byNode };
}

/** Something the operator should look at now. */
export interface Problem {
  level: 'error' | 'warning';
  kind: string;
  text: string;
}

/** Down nodes, Redis trouble, backlogs and failures first; then the risky settings (once per text). */
export function buildProblems(nodes: [string, Merged][]): Problem[] {
  const out: Problem[] = [];
  for (const [id, m] of nodes) {
    const s = m.latest;
    if (m.down)
      out.push({
        level: 'error',
        kind: 'node-down',
        text: `${id} is down: no sample for ${Math.round((Date.now() - s.t) / 1000)} s`,
      });
    if (s.redis !== null && !s.redis.up)
      out.push({ level: 'error', kind: 'redis-down', text: `${id} cannot reach Redis` });
    if (s.redis !== null && s.redis.lag > 1000)
      out.push({
        level: 'warning',
        kind: 'redis-lag',
        text: `${id} is ${s.redis.lag} stream entries behind`,
      });
    if (s.draining) out.push({ level: 'warning', kind: 'draining', text: `${id} is draining` });
    for (const u of s.upstream)
      if (u.instances === 0)
        out.push({
          level: 'warning',
          kind: 'upstream',
          text: `${id}: service ${u.service} has no instance connected`,
        });
  }
  const warnings = new Map<string, string[]>();
  for (const [id, m] of nodes)
    for (const w of m.latest.warnings) warnings.set(w, [...(warnings.get(w) ?? []), id]);
  for (const [w, on] of warnings)
    out.push({
      level: 'warning',
      kind: 'setting',
      text: `${on.length === nodes.length && nodes.length > 1 ? 'all nodes' : on.join(', ')}: ${w}`,
    });
  return out;
}

/** Disconnect counts over the kept samples of every node, by code, largest first. */
export function disconnectTotals(nodes: Merged[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const m of nodes)
    for (const s of m.samples)
      for (const [code, n] of Object.entries(s.disconnects)) totals.set(code, (totals.get(code) ?? 0) + n);
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 > 0 && s < 600 ? `${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}
