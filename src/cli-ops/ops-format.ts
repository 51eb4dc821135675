/**
 * Terminal output of the operator commands: aligned columns like `kubectl get`, nothing touching the
 * process (tests call these directly).
 */

type Msg = Record<string, unknown>;

/** Columns padded to their widest cell, two spaces apart; no trailing spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `75s` -> `1m15s`, like kubectl's AGE column (largest two units). */
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 || m >= 10 ? `${m}m` : `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 || h >= 10 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 || d >= 10 ? `${d}d` : `${d}d${h % 24}h`;
}

function n(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function nodeState(node: Msg): string {
  if (node.down === true) return 'Down';
  if (node.draining === true) return 'Draining';
  return node.ready === true ? 'Ready' : 'NotReady';
}

/** `ferry status`: a cluster line, one row per node, then the risky settings. */
export function formatStatus(stats: Msg): string {
  const nodes = (stats.nodes ?? []) as Msg[];
  let out = '';
  const live = nodes.filter((x) => x.down !== true);
  const conns = live.reduce((a, x) => a + n(x.connectionsWs) + n(x.connectionsTcp) + n(x.connectionsWt), 0);
  const users = live.reduce((a, x) => a + n(x.users), 0);
  const ready = nodes.filter((x) => nodeState(x) === 'Ready').length;
  out +=
    `cluster: ${nodes.length} node${nodes.length === 1 ? '' : 's'} (${ready} ready, ${nodes.length - live.length} down), ` +
    `${conns} connections, ${users} users, bus ${String(stats.bus)}; answered by ${String(stats.nodeId)}\n\n`;
  out += table(
    ['NODE', 'STATUS', 'AGE', 'WS', 'TCP', 'WT', 'SESSIONS', 'USERS', 'IN/S', 'OUT/S', 'QOS1', 'REDIS'],
    nodes.map((x) => [
      String(x.nodeId),
      nodeState(x),
      age(n(x.uptimeSeconds)),
      String(n(x.connectionsWs)),
      String(n(x.connectionsTcp)),
      String(n(x.connectionsWt)),
      String(n(x.sessions)),
      String(n(x.users)),
      n(x.messagesInPerSec).toFixed(1),
      n(x.messagesOutPerSec).toFixed(1),
      String(n(x.qos1Backlog)),
      x.redis !== true ? '-' : x.redisUp === true ? `up lag=${n(x.redisLag)}` : 'DOWN',
    ]),
  );
  const warnings = new Map<string, string[]>();
  for (const x of nodes)
    for (const w of (x.warnings ?? []) as string[])
      warnings.set(w, [...(warnings.get(w) ?? []), String(x.nodeId)]);
  if (warnings.size > 0) {
    out += '\nwarnings:\n';
    for (const [w, on] of warnings)
      out += `  ${on.length === nodes.length && nodes.length > 1 ? 'all nodes' : on.join(',')}: ${w}\n`;
  }
  return out;
}

const TRANSPORTS: Record<string, string> = {
  TRANSPORT_WEBSOCKET: 'websocket',
  TRANSPORT_TCP: 'tcp',
  TRANSPORT_WEBTRANSPORT: 'webtransport',
};

/** `ferry user ID`: devices online, then login sessions made through the access API. */
export function formatUser(userId: string, res: Msg, nowMs: number): string {
  const devices = (res.devices ?? []) as Msg[];
  const sessions = (res.sessions ?? []) as Msg[];
  let out = `user ${userId}: ${devices.length === 0 ? 'offline' : `online on ${devices.length} device${devices.length === 1 ? '' : 's'}`}\n`;
  if (devices.length > 0)
    out +=
      '\n' +
      table(
        ['DEVICE', 'NODE', 'TRANSPORT', 'SINCE', 'CONNECTION'],
        devices.map((d) => [
          String(d.deviceId),
          String(d.nodeId),
          TRANSPORTS[String(d.transport)] ?? String(d.transport),
          `${age((nowMs - n(d.sinceMs)) / 1000)} ago`,
          String(d.connectionId),
        ]),
      );
  if (sessions.length > 0)
    out +=
      '\nlogin sessions:\n' +
      table(
        ['SESSION', 'DEVICE', 'CONNECTED', 'EXPIRES IN', 'CREATED BY'],
        sessions.map((s) => [
          String(s.sessionId),
          String(s.deviceId),
          s.connected === true ? 'yes' : 'no',
          age((n(s.expiresAtMs) - nowMs) / 1000),
          String(s.createdBy),
        ]),
      );
  return out;
}

/** `ferry push`: one line per recipient. */
export function formatPush(res: Msg): string {
  return (
    ((res.results ?? []) as Msg[])
      .map((r) => {
        const status = String(r.status).replace('PUSH_STATUS_', '').toLowerCase();
        const detail = r.error
          ? ` (${String(r.error)})`
          : n(r.seq) > 0
            ? ` (seq ${n(r.seq)}, id ${String(r.serverId)})`
            : '';
        return `${String(r.userId)}: ${status}${detail}`;
      })
      .join('\n') + '\n'
  );
}
