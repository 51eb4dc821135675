/**
 * Shared pieces of the cluster integration tests: real `ferry start --redis ...` processes on one
 * real redis-server, and a receiver that acks every QoS-1 delivery and remembers them by seq.
 */
import type { Frame } from '../../../src/protocol/codec.js';
import { GatewayProcess, OPEN_PERMISSIONS, testToken } from '../../helpers/gateway-process.js';
import { Changes } from '../../helpers/recorder.js';
import type { KeyEvents } from '../../helpers/redis-events.js';
import { WireClient } from '../../helpers/wire-client.js';

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null | undefined): string =>
  new TextDecoder().decode(b ?? new Uint8Array());

/** A gateway node joined to the cluster at `redisFlags` (e.g. ['--redis', url]), short failure timers. */
export function startNode(
  redisFlags: string[],
  nodeId: string,
  extra: string[] = [],
): Promise<GatewayProcess> {
  return GatewayProcess.start([
    ...redisFlags,
    '--node-id',
    nodeId,
    '--redis-liveness-ttl',
    '1s',
    '--redis-claim-idle',
    '300ms',
    ...OPEN_PERMISSIONS,
    ...extra,
  ]);
}

/** Logs `user` (device `deviceId`) in at `url`. */
export async function login(url: string, user: string, deviceId = 'd1', lastSeq = 0): Promise<WireClient> {
  return WireClient.login(url, await testToken(user), { deviceId, lastSeq });
}

/** Sends a QoS-1 message and resolves with its SendAck or Error frame. */
export async function sendQos1(
  c: WireClient,
  toUser: string,
  payload: string,
  clientMsgId: string,
): Promise<Frame> {
  const id = c.send({ send: { toUser, payload: bytes(payload), qos: 1, clientMsgId } });
  return c.next((f) => f.id === id && (f.body === 'sendAck' || f.body === 'error'), 10_000);
}

/**
 * Sends until acked, retrying (same clientMsgId, so the store dedups) while the answer is a
 * retryable error; returns the acked seq.
 */
export async function sendUntilAcked(
  c: WireClient,
  toUser: string,
  payload: string,
  clientMsgId: string,
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const f = await sendQos1(c, toUser, payload, clientMsgId);
    if (f.body === 'sendAck') return Number(f.sendAck!.seq);
    if (!f.error?.retryable || attempt > 200)
      throw new Error(`send failed: ${f.error?.code} ${f.error?.message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Receives user deliveries on a connection, acks each QoS-1 one, records payload by seq. */
export class Receiver {
  readonly bySeq = new Map<number, string>();
  /** Every QoS-1 delivery seen, duplicates included. */
  deliveries = 0;
  lastSeq = 0;
  private readonly changes = new Changes();

  attach(c: WireClient): void {
    c.take(
      (f) => f.body === 'deliver' && f.deliver?.qos === 1,
      (f) => {
        const d = f.deliver!;
        const seq = Number(d.seq);
        this.deliveries++;
        this.bySeq.set(seq, text(d.payload));
        this.lastSeq = Math.max(this.lastSeq, seq);
        c.send({ ack: { seq } });
        this.changes.notify();
      },
    );
  }

  /** Resolves once `n` distinct seqs were delivered, re-checked on each delivery. */
  received(n: number, timeoutMs = 30_000): Promise<void> {
    return this.changes.until(
      () => this.bySeq.size >= n,
      `${n} distinct deliveries`,
      timeoutMs,
      () => `${this.bySeq.size} distinct, ${this.deliveries} in all`,
    );
  }
}

/** Reads one counter or gauge from a node's /metrics (summing over labels matching `labels`). */
export async function metricValue(gw: GatewayProcess, name: string, labels = ''): Promise<number> {
  const body = (await gw.admin('/metrics')).body;
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}

/**
 * Resolves once `userId`'s presence entry was written to Redis (a keyspace event), so that every node
 * that has not cached the user finds it. A login's presence write is not awaited before AuthResult,
 * so a QoS-0 message sent the instant a user logs in elsewhere may find no one (at most once).
 */
export function presenceWritten(events: KeyEvents, userId: string): Promise<void> {
  return events.waitFor(
    'hset',
    (key) => key.endsWith(`{u:${userId}}:presence`),
    `${userId}'s presence entry`,
  );
}
