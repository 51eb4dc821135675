import type { Envelope } from '../bus/bus.js';

/** What the caller supplies when storing; the store assigns serverId, seq and timestamp. */
export type NewMessage = Omit<Envelope, 'serverId' | 'seq' | 'timestampMs'>;

/**
 * The sender a message is deduplicated under: its user, and for a server-originated message also its
 * service, after U+0000 (which no valid user id contains). Without the service a client whose user id
 * equals a Push's `from_user` could store a message under the Push's client_msg_id first, and the real
 * Push would then be answered "duplicate" and never stored.
 */
export function dedupSender(msg: Pick<NewMessage, 'fromUser' | 'fromService'>): string {
  return msg.fromService === '' ? msg.fromUser : `${msg.fromUser}\u0000${msg.fromService}`;
}

/** Result of an append. A duplicate returns the first append's ids and stores nothing. */
export interface AppendResult {
  serverId: string;
  seq: number;
  timestampMs: number;
  duplicate: boolean;
}

/**
 * The QoS-1 log. Per recipient user: an append-only log whose positions are the per-recipient
 * sequence, plus one acked cursor per device. Per topic: an append-only log of QoS-1 publications.
 * Dedup is atomic with the append: the same (dedupSender, clientMsgId) stores once.
 * Retention is bounded (count and age); what falls out of retention is gone.
 */
export interface MessageStore {
  appendToUser(msg: NewMessage): Promise<AppendResult>;
  /** Messages of `userId` with seq > afterSeq, oldest first, at most `limit`. */
  readUser(userId: string, afterSeq: number, limit: number): Promise<Envelope[]>;
  /** Records that `deviceId` has processed everything up to `seq` (cumulative; never moves back). */
  ackUser(userId: string, deviceId: string, seq: number): Promise<void>;
  /** The device's acked position (0 when unknown). */
  userCursor(userId: string, deviceId: string): Promise<number>;
  /** The user's last assigned seq (0 when none). */
  lastUserSeq(userId: string): Promise<number>;
  appendToTopic(msg: NewMessage): Promise<AppendResult>;
  readTopic(topic: string, afterSeq: number, limit: number): Promise<Envelope[]>;
  lastTopicSeq(topic: string): Promise<number>;
  /** Sizes for /stats and metrics. */
  stats(): { users: number; topics: number; messages: number; bytes: number };
  close(): Promise<void>;
}
