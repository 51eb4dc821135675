/**
 * Startup checks of what Redis itself promises against the chosen durability mode (docs/cluster.md,
 * "Durability modes"). They only log: a managed Redis may refuse CONFIG, and an operator may accept
 * the trade-off knowingly.
 */
import type { FerryConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { RedisLink } from './redis-link.js';

/** When a QoS-1 append counts as done: the `store.durability` settings. */
export interface Durability {
  mode: FerryConfig['store']['durability'];
  /** ack-after-replica: WAIT numreplicas. */
  replicas: number;
  /** ack-after-replica: WAIT timeout in ms. */
  timeoutMs: number;
}

/** The durability settings of a config. */
export function durabilityOf(config: FerryConfig): Durability {
  const s = config.store;
  return { mode: s.durability, replicas: s.replicas, timeoutMs: s.replicaTimeoutMs };
}

/**
 * ack-after-write: warns when a primary runs without AOF (`CONFIG GET appendonly`), since acked
 * messages then do not survive a Redis restart. ack-after-replica: warns when a primary has fewer
 * connected replicas than `replicas` (INFO replication), since every QoS-1 send is then refused.
 * Rejects only when Redis is unreachable.
 */
export async function checkDurability(
  link: RedisLink,
  durability: Durability | undefined,
  log: Logger,
): Promise<void> {
  if (durability?.mode === 'ack-after-replica') {
    const infos = await link.callEachPrimary<string>(['INFO', 'replication']);
    const replicas = Math.min(
      ...infos.map((info) => Number(/connected_slaves:(\d+)/.exec(String(info))?.[1] ?? 0)),
    );
    if (replicas < durability.replicas)
      log.warn(
        { connectedReplicas: replicas, required: durability.replicas },
        'store.durability is ack-after-replica but a Redis primary has fewer connected replicas than store.replicas: ' +
          'QoS-1 sends are refused (107, retryable) until enough replicas are connected',
      );
    return;
  }
  let replies: unknown[];
  try {
    replies = await link.callEachPrimary<unknown>(['CONFIG', 'GET', 'appendonly']);
  } catch (err) {
    if (!(err instanceof Error) || !/ERR|NOPERM|unknown command/i.test(err.message)) throw err;
    // Managed Redis services often disable CONFIG: nothing to check then.
    log.debug({ err: err.message }, 'CONFIG GET appendonly refused; persistence not checked');
    return;
  }
  if (replies.some((r) => configValue(r, 'appendonly') === 'no'))
    log.warn(
      'store.durability is ack-after-write and Redis runs without AOF (appendonly no): acknowledged QoS-1 ' +
        'messages do not survive a Redis restart; turn on appendonly (appendfsync everysec or always) or ' +
        'use ack-after-replica with replicas (docs/cluster.md, "Durability modes")',
    );
}

/** One parameter of a CONFIG GET reply: RESP2 `[name, value]`, RESP3 a map (object or Map). */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) {
    const i = reply.findIndex((x) => String(x) === name);
    return i >= 0 && i + 1 < reply.length ? String(reply[i + 1]) : undefined;
  }
  if (reply instanceof Map) return reply.has(name) ? String(reply.get(name)) : undefined;
  if (typeof reply === 'object' && reply !== null && name in reply)
    return String((reply as Record<string, unknown>)[name]);
  return undefined;
}
