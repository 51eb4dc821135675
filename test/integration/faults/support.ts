/**
 * Shared pieces of the fault scenarios (one file each in this folder): gateway nodes with short
 * failure timers on a real redis-server, and sums of their metrics.
 */
import type { GatewayProcess } from '../../helpers/gateway-process.js';
import { QosLoad } from '../../helpers/qos-load.js';
import type { RedisServer } from '../../helpers/redis-server.js';
import { metricValue, startNode } from '../cluster/support.js';

export { TIME_FACTOR } from '../../helpers/time-factor.js';

/**
 * A cluster node on `redisUrl` (liveness 1 s, claims after 300 ms idle, as every cluster test node),
 * checking Redis for lost data every second, with heartbeats every second (a client notices a dead
 * node within two).
 */
export function startFaultNode(
  redisUrl: string,
  nodeId: string,
  extra: string[] = [],
): Promise<GatewayProcess> {
  return startNode(['--redis', redisUrl], nodeId, [
    '--redis-data-check',
    '1s',
    '--heartbeat',
    '1s',
    ...extra,
  ]);
}

/** What a scenario starts; `useFaultScenario` stops it after each test. */
export interface FaultScenario {
  redis: RedisServer | undefined;
  nodes: GatewayProcess[];
  load: QosLoad | undefined;
}

/**
 * Registers (in the calling `describe`) the clean-up of a scenario after each test: on failure the
 * nodes' last warnings and errors are printed, then the load, the nodes and Redis are stopped (a
 * paused Redis is resumed first).
 */
export function useFaultScenario(): FaultScenario {
  const s: FaultScenario = { redis: undefined, nodes: [], load: undefined };
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpLogs(s.nodes);
    s.redis?.resume();
    await s.load?.close();
    for (const n of s.nodes.splice(0)) await n.cleanup();
    await s.redis?.stop();
    s.load = s.redis = undefined;
  });
  return s;
}

/** The load every scenario runs: 8 pairs at 40 messages/s each, spread over `nodes`. */
export async function startLoad(s: FaultScenario, prefix: string): Promise<QosLoad> {
  s.load = await QosLoad.start({ nodes: s.nodes.map((n) => n.urls), pairs: 8, ratePerPair: 40, prefix });
  return s.load;
}

/** A metric summed over the nodes still running. */
export async function sumMetric(nodes: GatewayProcess[], name: string, labels = ''): Promise<number> {
  let sum = 0;
  for (const n of nodes)
    if (n.proc.exitCode === null && n.proc.signalCode === null) sum += await metricValue(n, name, labels);
  return sum;
}

/** Prints the warnings and errors each node logged last (for a failed scenario), one short line each. */
export function dumpLogs(nodes: GatewayProcess[]): void {
  for (const n of nodes)
    for (const l of n.logs.filter((r) => Number(r.level) >= 40).slice(-12)) {
      const err = (l.err as { message?: string } | undefined)?.message;
      console.error(`      ${String(l.node)} ${String(l.time)} ${String(l.msg)}${err ? `: ${err}` : ''}`);
    }
}

/** Prints the tally line of a scenario, indented under its test title. */
export function report(scenario: string, line: string): void {
  console.log(`      ${scenario}: ${line}`);
}
