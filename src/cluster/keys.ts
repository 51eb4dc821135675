/**
 * Every Redis key and channel Ferry uses in cluster mode, in one place (docs/cluster.md lists them).
 * Keys carry Redis Cluster hash tags so that what one command or script touches lives on one slot:
 * `{node:<id>}` groups a node's inbox and liveness key, `{u:<id>}` a user's presence with the Redis
 * message store's keys of that user (the same tag as src/store/redis/keys.ts, so a presence write
 * and a replay read of one user go over one connection and stay ordered), `{cluster}` the node
 * registry and the broadcast stream.
 */
import { escapeTagPart } from '../store/redis/keys.js';

/** The consumer group every node's inbox is read through (the owner, and claimers after a crash). */
export const INBOX_GROUP = 'inbox';

/** Key names under one prefix (`redis.keyPrefix`). */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  /** Stream of envelopes forwarded to node `nodeId` (read by its consumer group `inbox`). */
  inbox(nodeId: string): string {
    return `${this.prefix}:{node:${nodeId}}:inbox`;
  }

  /** String key with a TTL: present while node `nodeId` is alive. */
  alive(nodeId: string): string {
    return `${this.prefix}:{node:${nodeId}}:alive`;
  }

  /** Sorted set of node ids (score: last heartbeat, ms), for finding dead nodes' inboxes. */
  nodes(): string {
    return `${this.prefix}:{cluster}:nodes`;
  }

  /** Stream every node reads through its own consumer group: topic messages and control messages. */
  broadcast(): string {
    return `${this.prefix}:{cluster}:broadcast`;
  }

  /** Hash device -> presence entry of one user. */
  presence(userId: string): string {
    return `${this.prefix}:{u:${escapeTagPart(userId)}}:presence`;
  }

  /** Pub/sub channel of presence events (online/offline), cluster wide. */
  presenceChannel(): string {
    return `${this.prefix}:presence-events`;
  }

  /** The consumer group of node `nodeId` on the broadcast stream. */
  broadcastGroup(nodeId: string): string {
    return `node:${nodeId}`;
  }

  /**
   * Data marker number `n` (string, never expires): a random value the first node to find it
   * missing writes. One per Redis shard (data-guard.ts picks an `n` whose slot each master owns);
   * gone or replaced means that shard lost its data.
   */
  dataMarker(n: number): string {
    return `${this.prefix}:{data:${n}}:marker`;
  }
}

/** Redis Cluster's slot count (CLUSTER KEYSLOT is CRC16 mod this). */
export const SLOT_COUNT = 16384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with (cluster-spec, "Key distribution model"). */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The Redis Cluster slot of `key`: CRC16 of its hash tag (the bytes between the first `{` and the
 * next `}`, when that is non-empty), else of the whole key, mod 16384.
 */
export function keySlot(key: string): number {
  let k = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) k = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(k, 'utf8')) % SLOT_COUNT;
}
