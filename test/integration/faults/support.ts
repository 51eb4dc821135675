/**
 * Shared pieces of the fault scenarios (one file each in this folder): gateway nodes with short
 * failure timers on a real redis-server, and sums of their metrics.
 */
import { GatewayProcess, OPEN_PERMISSIONS } from '../../helpers/gateway-process.js';
import { metricValue } from '../cluster/support.js';

/** Test timeouts scale with FERRY_TEST_TIME_FACTOR on slow machines. */
export const TIME_FACTOR = Math.max(1, Number(process.env.FERRY_TEST_TIME_FACTOR ?? '1') || 1);

/**
 * A cluster node on `redisUrl`: liveness 1 s, claims after 300 ms idle, data check every second,
 * heartbeats every second (a client notices a dead node within two).
 */
export function startFaultNode(
  redisUrl: string,
  nodeId: string,
  extra: string[] = [],
): Promise<GatewayProcess> {
  return GatewayProcess.start([
    '--redis',
    redisUrl,
    '--node-id',
    nodeId,
    '--redis-liveness-ttl',
    '1s',
    '--redis-claim-idle',
    '300ms',
    '--redis-data-check',
    '1s',
    '--heartbeat',
    '1s',
    ...OPEN_PERMISSIONS,
    ...extra,
  ]);
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
