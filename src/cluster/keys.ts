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
}
