/**
 * The bus carries messages between gateway nodes. On one node the in-process bus (memory.ts) hands
 * them straight back; in a cluster the Redis Streams bus (docs/cluster.md) forwards them to the nodes that
 * hold the recipients. The bus never stores for offline users: that is the MessageStore's job, and a
 * QoS-1 message is in the store before it is published here.
 */
export type QoS = 0 | 1;

/** A message in flight: what a recipient's Deliver frame is built from. */
export interface Envelope {
  /** Unique id assigned by the accepting node. */
  serverId: string;
  /** Per-recipient-user sequence (user messages) or topic offset (topic messages); 0 for QoS 0. */
  seq: number;
  fromUser: string;
  fromDevice: string;
  /** Recipient user for user messages, '' for topic messages. */
  toUser: string;
  /** Topic for topic messages, '' for user messages. */
  topic: string;
  payload: Uint8Array;
  timestampMs: number;
  qos: QoS;
  clientMsgId: string;
  ephemeral: boolean;
  /**
   * The server-side origin of the message: the API key (or mTLS caller) name for access-API Push and
   * Broadcast, the service name for an upstream service's reply; '' for every client message. Only
   * server code sets it, never a client frame: it is what lets a recipient trust a Deliver as the
   * server's (docs/protocol.md §5.4).
   */
  fromService: string;
}

/** Node-to-node control: kicks and the like, applied by every node to its local sessions. */
export type ControlMessage =
  | { type: 'kick'; userId: string; deviceId?: string; code: number; reason: string }
  | { type: 'replace'; userId: string; deviceId: string; keepSessionId: string };

/** What the bus calls when a message for this node arrives. */
export interface BusHandler {
  onUserMessage(env: Envelope): void;
  onTopicMessage(env: Envelope): void;
  onControl(msg: ControlMessage): void;
}

/** Moves envelopes to the nodes that need them. */
export interface Bus {
  /** Short name for logs and /stats ("memory", "redis-streams"). */
  readonly name: string;
  /** Starts delivering to `handler`. Called once. */
  start(handler: BusHandler): Promise<void>;
  /** To every node where `env.toUser` has a session. */
  publishToUser(env: Envelope): Promise<void>;
  /** To every node with a subscriber of `env.topic` (or simply every node). */
  publishToTopic(env: Envelope): Promise<void>;
  /** To every node. */
  publishControl(msg: ControlMessage): Promise<void>;
  /**
   * Bytes of messages accepted for other nodes and not yet handed to them (queued or being written);
   * 0 for a bus that hands every message over before `publish*` returns. The router sheds QoS 0 above
   * its bound on this (docs/architecture.md, "Backpressure").
   */
  backlogBytes(): number;
  /** Stops delivery and releases resources. Idempotent. */
  close(): Promise<void>;
}
