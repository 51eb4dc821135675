/**
 * The Redis-stream upstream: one stream per service, `<prefix>:svc:{<service>}:in` (the hash tag keeps
 * each service's stream on one Redis Cluster slot), read by the service's instances through the
 * consumer group named after the service (XREADGROUP ... then XACK when done: at-least-once, and a
 * crashed instance's pending entries are claimed by another with XAUTOCLAIM). The gateway creates the
 * group (MKSTREAM) when a route first names the service, so nothing written before the service starts
 * is missed. A message is "taken" once XADD returns; the service answers through the access API's Push.
 *
 * Entry fields: msg_id, user, device, session, node, type, priority, ts, attempt, payload (binary).
 */
import type { RedisArgument } from 'redis';
import type { Logger } from '../observability/logger.js';
import type { UpstreamMessage, UpstreamTransport } from './upstream-transport.js';

/** The one command path this needs (src/cluster/redis-link.ts's RedisLink provides it). */
export interface StreamCommands {
  call<T>(key: string | undefined, args: RedisArgument[]): Promise<T>;
}

/** Stream key of a service's inbox. */
export function serviceStreamKey(prefix: string, service: string): string {
  return `${prefix}:svc:{${service}}:in`;
}

export class RedisUpstream implements UpstreamTransport {
  readonly kind = 'redis' as const;
  private readonly redis: StreamCommands;
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly log: Logger;
  private readonly onClose: () => Promise<void>;
  private readonly errors = new Map<string, number>();

  constructor(opts: {
    redis: StreamCommands;
    keyPrefix: string;
    streamMaxLen: number;
    logger: Logger;
    /** Closes the connection if this upstream owns it. */
    onClose?: () => Promise<void>;
  }) {
    this.redis = opts.redis;
    this.prefix = opts.keyPrefix;
    this.maxLen = opts.streamMaxLen;
    this.log = opts.logger;
    this.onClose = opts.onClose ?? (() => Promise.resolve());
  }

  /** Creates the service's consumer group (and stream) if missing. */
  async prepare(service: string): Promise<void> {
    const key = serviceStreamKey(this.prefix, service);
    try {
      await this.redis.call(key, ['XGROUP', 'CREATE', key, service, '0', 'MKSTREAM']);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
  }

  async send(service: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    const key = serviceStreamKey(this.prefix, service);
    // node-redis pipelines commands issued in the same tick: one round trip for the batch.
    const results = await Promise.allSettled(
      batch.map((m) => this.redis.call<string>(key, xadd(key, this.maxLen, m))),
    );
    const notTaken: UpstreamMessage[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') notTaken.push(batch[i]!);
    });
    if (notTaken.length > 0) {
      this.errors.set(service, (this.errors.get(service) ?? 0) + notTaken.length);
      const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      this.log.warn(
        { service, failed: notTaken.length, err: String(first.reason) },
        'XADD to a service stream failed',
      );
    }
    return notTaken;
  }

  describe(service: string): Record<string, unknown> {
    return {
      stream: serviceStreamKey(this.prefix, service),
      group: service,
      xaddErrors: this.errors.get(service) ?? 0,
    };
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

function xadd(key: string, maxLen: number, m: UpstreamMessage): RedisArgument[] {
  return [
    'XADD',
    key,
    'MAXLEN',
    '~',
    String(maxLen),
    '*',
    'msg_id',
    m.msgId,
    'user',
    m.userId,
    'device',
    m.deviceId,
    'session',
    m.sessionId,
    'node',
    m.nodeId,
    'type',
    String(m.type),
    'priority',
    m.priority,
    'ts',
    String(m.timestampMs),
    'attempt',
    String(m.attempt),
    'payload',
    Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength),
  ];
}
