/**
 * The operator's console page (served at /console, bundled by scripts/build-client.mjs with uPlot
 * inlined: no CDN, works offline). Polls /console/api/overview every 2 s with the admin key the
 * operator typed (kept in sessionStorage for this tab only), charts the last 15 minutes, and drives
 * the actions, which the node runs through its gRPC access service. docs/operations.md, "The console".
 */
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import type { NodeSample, NodeSeries } from './types.js';
import { aggregate, buildProblems, fmtBytes, fmtAge, disconnectTotals, type Merged } from './model.js';

const KEY_STORAGE = 'ferry-console-admin-key';
const POLL_MS = 2000;

const state: { key: string; since: number; nodes: Map<string, Merged>; historyMs: number; timer: number } = {
  key: sessionStorage.getItem(KEY_STORAGE) ?? '',
  since: 0,
  nodes: new Map(),
  historyMs: 15 * 60_000,
  timer: 0,
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`no #${id}`);
  return e;
}

async function api(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${state.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status === 401) showKeyForm('The admin key was not accepted.');
  return { status: res.status, json };
}

// ---------- layout ----------

function layout(): void {
  const style = el('style');
  style.textContent = uplotCss + PAGE_CSS;
  document.head.append(style);
  $('app').replaceChildren(
    el(
      'header',
      {},
      el('h1', {}, 'Ferry console'),
      el('span', { id: 'updated', class: 'muted' }, ''),
      el('button', { id: 'forget-key', type: 'button' }, 'Forget key'),
    ),
    el(
      'form',
      { id: 'key-form', hidden: '' },
      el('label', { for: 'admin-key' }, 'Admin key '),
      el('input', { id: 'admin-key', type: 'password', autocomplete: 'off', size: '48' }),
      el('button', { type: 'submit' }, 'Open'),
      el('span', { id: 'key-message', class: 'bad' }, ''),
    ),
    el('section', { id: 'problems' }),
    el('section', { id: 'summary', class: 'cards' }),
    el('section', { id: 'charts', class: 'charts' }),
    el('h2', {}, 'Nodes'),
    el('section', { id: 'nodes' }),
    el(
      'div',
      { class: 'two' },
      el('div', {}, el('h2', {}, 'Upstream services'), el('section', { id: 'upstream' })),
      el('div', {}, el('h2', {}, 'Disconnects (15 min)'), el('section', { id: 'disconnects' })),
    ),
    el('h2', {}, 'Actions'),
    actionsPanel(),
  );
  ($('key-form') as HTMLFormElement).addEventListener('submit', (e) => {
    e.preventDefault();
    state.key = ($('admin-key') as HTMLInputElement).value.trim();
    sessionStorage.setItem(KEY_STORAGE, state.key);
    $('key-form').hidden = true;
    void poll();
  });
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = '';
    showKeyForm('');
  });
}

function showKeyForm(message: string): void {
  window.clearTimeout(state.timer);
  $('key-form').hidden = false;
  $('key-message').textContent = message;
}

function input(id: string, placeholder: string, size = '14'): HTMLInputElement {
  return el('input', { id, placeholder, size, autocomplete: 'off' });
}

function actionsPanel(): HTMLElement {
  const form = (id: string, title: string, fields: HTMLElement[], button: string): HTMLFormElement =>
    el(
      'form',
      { id, class: 'action' },
      el('strong', {}, title),
      ...fields,
      el('button', { type: 'submit' }, button),
    );
  const panel = el(
    'section',
    { id: 'actions' },
    form('find-user', 'Find user', [input('find-user-id', 'user id')], 'Find'),
    form(
      'kick',
      'Kick',
      [input('kick-user', 'user id'), input('kick-device', 'device (all if empty)')],
      'Kick',
    ),
    form('push', 'Test push', [input('push-user', 'user id'), input('push-text', 'text', '28')], 'Send'),
    form(
      'broadcast',
      'Broadcast',
      [input('broadcast-topic', 'topic'), input('broadcast-text', 'text', '28')],
      'Publish',
    ),
    form('reload-routes', 'Routes', [], 'Reload routes'),
    el('div', { id: 'user-result' }),
    el('pre', { id: 'action-result', 'aria-live': 'polite' }),
  );
  const val = (id: string): string => (panel.querySelector(`#${id}`) as HTMLInputElement).value.trim();
  const on = (id: string, run: () => Promise<void>): void =>
    panel.querySelector(`#${id}`)!.addEventListener('submit', (e) => {
      e.preventDefault();
      void run();
    });
  on('find-user', () => findUser(val('find-user-id')));
  on('kick', () => act('kick', { userId: val('kick-user'), deviceId: val('kick-device') }));
  on('push', () => act('push', { userId: val('push-user'), text: val('push-text') }));
  on('broadcast', () => act('broadcast', { topic: val('broadcast-topic'), text: val('broadcast-text') }));
  on('reload-routes', () => act('reload-routes', {}));
  return panel;
}

async function act(name: string, body: Record<string, unknown>): Promise<void> {
  const out = $('action-result');
  out.textContent = `${name}…`;
  const { status, json } = await api(`/console/api/${name}`, body);
  out.dataset.action = name;
  out.dataset.status = String(status);
  out.className = status === 200 ? 'ok' : 'bad';
  out.textContent = `${name}: ${status === 200 ? 'done' : `failed (${status})`}\n${JSON.stringify(json, null, 2)}`;
}

async function findUser(userId: string): Promise<void> {
  const box = $('user-result');
  const { status, json } = await api(`/console/api/user?id=${encodeURIComponent(userId)}`);
  if (status !== 200) {
    box.replaceChildren(el('p', { class: 'bad' }, `find ${userId}: ${String(json.error ?? status)}`));
    return;
  }
  const devices = (json.devices ?? []) as Record<string, unknown>[];
  const rows = devices.map((d) => {
    const kick = el('button', { type: 'button', 'data-kick-device': String(d.deviceId) }, 'Kick');
    kick.addEventListener('click', () => void act('kick', { userId, deviceId: d.deviceId }));
    return el(
      'tr',
      { 'data-device': String(d.deviceId) },
      el('td', {}, String(d.deviceId)),
      el('td', {}, String(d.nodeId)),
      el('td', {}, String(d.transport).replace('TRANSPORT_', '').toLowerCase()),
      el('td', {}, `${fmtAge((Date.now() - Number(d.sinceMs)) / 1000)} ago`),
      el('td', {}, kick),
    );
  });
  box.replaceChildren(
    el(
      'p',
      { id: 'user-summary' },
      `${userId}: ${devices.length === 0 ? 'offline' : `online on ${devices.length} device(s)`}`,
    ),
    table(['device', 'node', 'transport', 'since', ''], rows),
  );
}

function table(header: string[], rows: HTMLElement[]): HTMLTableElement {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows),
  );
}

// ---------- polling ----------

async function poll(): Promise<void> {
  window.clearTimeout(state.timer);
  if (state.key === '') {
    showKeyForm('');
    return;
  }
  try {
    const { status, json } = await api(`/console/api/overview?since=${state.since}`);
    if (status === 401) return;
    if (status === 200) merge(json as unknown as { now: number; historyMs: number; nodes: NodeSeries[] });
  } catch {
    $('updated').textContent = 'node unreachable; retrying';
  }
  state.timer = window.setTimeout(() => void poll(), POLL_MS);
}

function merge(o: { now: number; historyMs: number; nodes: NodeSeries[] }): void {
  state.historyMs = o.historyMs;
  const cutoff = o.now - o.historyMs;
  const seen = new Set<string>();
  for (const s of o.nodes) {
    seen.add(s.nodeId);
    const m = state.nodes.get(s.nodeId) ?? { samples: [] as NodeSample[], latest: s.latest, down: s.down };
    const last = m.samples[m.samples.length - 1]?.t ?? 0;
    m.samples.push(...s.samples.filter((x) => x.t > last));
    m.samples = m.samples.filter((x) => x.t >= cutoff);
    m.latest = s.latest;
    m.down = s.down;
    state.nodes.set(s.nodeId, m);
  }
  for (const id of [...state.nodes.keys()]) if (!seen.has(id)) state.nodes.delete(id);
  // Ask again from a little before the newest sample seen: nodes' clocks and write times differ.
  const newest = Math.max(0, ...[...state.nodes.values()].map((m) => m.latest.t));
  state.since = Math.max(cutoff, newest - 10_000);
  render(o.now);
}

// ---------- rendering ----------

function card(id: string, label: string, value: string, detail = ''): HTMLElement {
  return el(
    'div',
    { class: 'card', 'data-figure': id },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value),
    el('div', { class: 'detail' }, detail),
  );
}

function render(now: number): void {
  const nodes = [...state.nodes.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const live = nodes.filter(([, m]) => !m.down).map(([, m]) => m.latest);
  const sum = (f: (s: NodeSample) => number): number => live.reduce((a, s) => a + f(s), 0);
  $('updated').textContent = `updated ${new Date(now).toLocaleTimeString()} · ${nodes.length} node(s)`;
  $('updated').dataset.now = String(now);

  const problems = buildProblems(nodes);
  $('problems').replaceChildren(
    ...problems.map((p) => el('div', { class: `problem ${p.level}`, 'data-problem': p.kind }, p.text)),
  );

  const ready = live.filter((s) => s.ready && !s.draining).length;
  const p99 = Math.max(0, ...live.map((s) => s.latencyMs?.p99 ?? 0));
  $('summary').replaceChildren(
    card('nodes', 'Nodes', `${ready}/${nodes.length}`, 'ready / known'),
    card(
      'connections',
      'Connections',
      String(sum((s) => s.connections.ws + s.connections.tcp + s.connections.wt)),
      `ws ${sum((s) => s.connections.ws)} · tcp ${sum((s) => s.connections.tcp)} · wt ${sum((s) => s.connections.wt)}`,
    ),
    card('sessions', 'Sessions', String(sum((s) => s.sessions))),
    card('users', 'Users online', String(sum((s) => s.users)), 'sum over nodes'),
    card('in', 'Messages in/s', sum((s) => s.inPerSec).toFixed(1)),
    card('out', 'Messages out/s', sum((s) => s.outPerSec).toFixed(1)),
    card('qos1', 'QoS-1 backlog', String(sum((s) => s.qos1Backlog))),
    card(
      'latency',
      'Delivery p99',
      live.some((s) => s.latencyMs) ? `${p99} ms` : '–',
      'worst node, last 2 s',
    ),
  );

  renderCharts(nodes);

  $('nodes').replaceChildren(
    table(
      [
        'node',
        'status',
        'uptime',
        'ws',
        'tcp',
        'wt',
        'sessions',
        'users',
        'in/s',
        'out/s',
        'QoS-1',
        'latency p50/p90/p99 ms',
        'loop p99',
        'RSS',
        'Redis',
        'lag',
        'pending',
        'Redis memory',
      ],
      nodes.map(([id, m]) => {
        const s = m.latest;
        const status = m.down ? 'down' : s.draining ? 'draining' : s.ready ? 'ready' : 'starting';
        const cell = (col: string, v: string): HTMLElement => el('td', { 'data-col': col }, v);
        return el(
          'tr',
          { 'data-node': id, 'data-sample-t': String(s.t), class: m.down ? 'bad' : '' },
          cell('node', id),
          cell('status', status),
          cell('uptime', fmtAge(s.uptimeSeconds)),
          cell('ws', String(s.connections.ws)),
          cell('tcp', String(s.connections.tcp)),
          cell('wt', String(s.connections.wt)),
          cell('sessions', String(s.sessions)),
          cell('users', String(s.users)),
          cell('in', s.inPerSec.toFixed(1)),
          cell('out', s.outPerSec.toFixed(1)),
          cell('qos1', String(s.qos1Backlog)),
          cell('latency', s.latencyMs ? `${s.latencyMs.p50} / ${s.latencyMs.p90} / ${s.latencyMs.p99}` : '–'),
          cell('loop', `${s.eventLoopP99Ms} ms`),
          cell('rss', fmtBytes(s.rssBytes)),
          cell('redis', s.redis === null ? 'none' : s.redis.up ? 'up' : 'DOWN'),
          cell('lag', s.redis === null ? '–' : String(s.redis.lag)),
          cell('pending', s.redis === null ? '–' : String(s.redis.pending)),
          cell(
            'redis-memory',
            s.redis === null || s.redis.memoryBytes < 0 ? '–' : fmtBytes(s.redis.memoryBytes),
          ),
        );
      }),
    ),
  );

  const services = nodes.flatMap(([id, m]) => m.latest.upstream.map((u) => ({ node: id, ...u })));
  $('upstream').replaceChildren(
    services.length === 0
      ? el('p', { class: 'muted' }, 'No upstream services configured.')
      : table(
          ['node', 'service', 'kind', 'instances', 'queued', 'failures'],
          services.map((u) =>
            el(
              'tr',
              { 'data-service': `${u.node}/${u.service}` },
              el('td', {}, u.node),
              el('td', {}, u.service),
              el('td', {}, u.kind),
              el('td', {}, u.instances < 0 ? 'n/a' : String(u.instances)),
              el('td', {}, String(u.queued)),
              el('td', { class: u.failures > 0 ? 'bad' : '' }, String(u.failures)),
            ),
          ),
        ),
  );

  const totals = disconnectTotals(nodes.map(([, m]) => m));
  $('disconnects').replaceChildren(
    totals.length === 0
      ? el('p', { class: 'muted' }, 'No disconnects by the server in the last 15 minutes.')
      : table(
          ['code', 'count'],
          totals.map(([code, n]) =>
            el(
              'tr',
              { 'data-code': code.split(' ')[0] ?? code },
              el('td', {}, code),
              el('td', {}, String(n)),
            ),
          ),
        ),
  );
}

// ---------- charts ----------

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const charts = new Map<string, { plot: uPlot; key: string }>();

function renderCharts(nodes: [string, Merged][]): void {
  const host = $('charts');
  const { xs, byNode } = aggregate(nodes, state.historyMs);
  const ids = nodes.map(([id]) => id);
  const perNode = (f: (s: NodeSample) => number | null): (number | null)[][] =>
    ids.map((id) =>
      xs.map((_, i) => {
        const s = byNode.get(id)?.[i];
        return s === undefined ? null : f(s);
      }),
    );
  const clusterSum = (f: (s: NodeSample) => number): (number | null)[] =>
    xs.map((_, i) => {
      const present = ids.map((id) => byNode.get(id)?.[i]).filter((s): s is NodeSample => s !== undefined);
      return present.length === 0 ? null : present.reduce((a, s) => a + f(s), 0);
    });
  const clusterMax = (f: (s: NodeSample) => number | null): (number | null)[] =>
    xs.map((_, i) => {
      const v = ids
        .map((id) => byNode.get(id)?.[i])
        .map((s) => (s === undefined ? null : f(s)))
        .filter((x): x is number => x !== null);
      return v.length === 0 ? null : Math.max(...v);
    });
  const x = xs.map((t) => t / 1000);
  draw(host, 'chart-connections', 'Connections per node', ids, [
    x,
    ...perNode((s) => s.connections.ws + s.connections.tcp + s.connections.wt),
  ]);
  draw(
    host,
    'chart-rates',
    'Messages per second (cluster)',
    ['in', 'out'],
    [x, clusterSum((s) => s.inPerSec), clusterSum((s) => s.outPerSec)],
  );
  draw(host, 'chart-qos1', 'QoS-1 backlog per node', ids, [x, ...perNode((s) => s.qos1Backlog)]);
  draw(
    host,
    'chart-latency',
    'Delivery latency, ms (worst node)',
    ['p50', 'p90', 'p99'],
    [
      x,
      clusterMax((s) => s.latencyMs?.p50 ?? null),
      clusterMax((s) => s.latencyMs?.p90 ?? null),
      clusterMax((s) => s.latencyMs?.p99 ?? null),
    ],
  );
  draw(
    host,
    'chart-sessions',
    'Sessions and users (cluster)',
    ['sessions', 'users'],
    [x, clusterSum((s) => s.sessions), clusterSum((s) => s.users)],
  );
  draw(host, 'chart-loop', 'Event-loop delay p99, ms', ids, [x, ...perNode((s) => s.eventLoopP99Ms)]);
}

function draw(
  host: HTMLElement,
  id: string,
  title: string,
  names: string[],
  data: (number | null)[][],
): void {
  const key = names.join('|');
  const existing = charts.get(id);
  if (existing !== undefined && existing.key === key) {
    existing.plot.setData(data as uPlot.AlignedData);
    return;
  }
  existing?.plot.destroy();
  let box = document.getElementById(id);
  if (box === null) {
    box = el('div', { id, class: 'chart' });
    host.append(box);
  }
  box.replaceChildren();
  const width = Math.max(320, Math.floor((host.clientWidth - 24) / 2) - 12);
  const plot = new uPlot(
    {
      title,
      width,
      height: 170,
      scales: { y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 0) * 1.15)] } },
      axes: [{}, { size: 50 }],
      series: [
        {},
        ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false })),
      ],
      legend: { live: false },
    },
    data as uPlot.AlignedData,
    box,
  );
  charts.set(id, { plot, key });
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 18px 40px; color: #111827; background: #f9fafb; }
header { display: flex; gap: 16px; align-items: baseline; }
h1 { font-size: 20px; margin: 12px 0; } h2 { font-size: 16px; margin: 20px 0 8px; }
.muted { color: #6b7280; } .bad { color: #b91c1c; } .ok { color: #166534; }
.cards { display: grid; grid-template-columns: repeat(8, 1fr); gap: 8px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; }
.card .label { color: #6b7280; font-size: 12px; } .card .value { font-size: 22px; font-weight: 600; }
.card .detail { color: #6b7280; font-size: 11px; min-height: 1em; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-top: 12px; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } th { background: #f3f4f6; font-weight: 600; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.problem { padding: 6px 10px; margin: 4px 0; border-radius: 4px; }
.problem.error { background: #fee2e2; color: #991b1b; } .problem.warning { background: #fef3c7; color: #92400e; }
#actions { display: grid; gap: 8px; } .action { display: flex; gap: 8px; align-items: center; }
.action strong { width: 90px; } pre { background: #fff; border: 1px solid #e5e7eb; padding: 8px; min-height: 2em; }
`;

// `/console#key=<admin key>` opens without the form (the fragment never leaves the browser).
const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash !== null && fromHash !== '') {
  state.key = fromHash;
  sessionStorage.setItem(KEY_STORAGE, fromHash);
  history.replaceState(null, '', location.pathname);
}
layout();
void poll();
