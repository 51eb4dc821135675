/**
 * NodeSeries (the console's samples) as the access API's `NodeStatus` message (camelCase, as
 * @grpc/proto-loader takes it), for Stats.nodes and so `ferry status`.
 */
import type { NodeSeries } from './sample-store.js';

/** The `NodeStatus` of one node from its newest sample. */
export function nodeStatusMessage(series: NodeSeries): Record<string, unknown> {
  const s = series.latest;
  return {
    nodeId: series.nodeId,
    ready: s.ready,
    draining: s.draining,
    down: series.down,
    uptimeSeconds: s.uptimeSeconds,
    connectionsWs: s.connections.ws,
    connectionsTcp: s.connections.tcp,
    connectionsWt: s.connections.wt,
    sessions: s.sessions,
    users: s.users,
    messagesInPerSec: s.inPerSec,
    messagesOutPerSec: s.outPerSec,
    qos1Backlog: s.qos1Backlog,
    redis: s.redis !== null,
    redisUp: s.redis?.up ?? false,
    redisLag: s.redis?.lag ?? 0,
    sampledAtMs: s.t,
    warnings: s.warnings,
  };
}
