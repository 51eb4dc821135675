/**
 * The bus's handler on this node: what the bus brings (from this node or another) is fanned out to the
 * local sessions. The other half of routing, MessageRouter, only accepts and publishes; the bus is the
 * one path between them, so a message reaches its local recipients the same way from any node.
 */
import type { BusHandler, ControlMessage, Envelope } from '../bus/bus.js';
import { EncodedDeliver } from './encoded-deliver.js';
import type { LocalSessions } from './local-sessions.js';

/** Hands bus traffic to this node's sessions; never throws (sessions queue, shed or pull gaps themselves). */
export class LocalDelivery implements BusHandler {
  private readonly sessions: LocalSessions;

  constructor(sessions: LocalSessions) {
    this.sessions = sessions;
  }

  /** A user message: each local device of the user gets it, from one shared encoding. */
  onUserMessage(env: Envelope): void {
    const sessions = this.sessions.sessionsOfUser(env.toUser);
    if (sessions === undefined) return;
    const encoded = new EncodedDeliver(env);
    for (const s of sessions) s.deliver(env, encoded);
  }

  /** A topic message: every local subscriber except the publishing session gets it. */
  onTopicMessage(env: Envelope): void {
    const subscribers = this.sessions.subscribersOf(env.topic);
    if (subscribers === undefined) return;
    const encoded = new EncodedDeliver(env);
    for (const s of subscribers) {
      // (user, device) names one session cluster-wide, so this also works for publishers on other nodes.
      if (s.deviceId === env.fromDevice && s.userId === env.fromUser) continue;
      s.deliver(env, encoded);
    }
  }

  /** Kicks and replacements apply to this node's sessions. */
  onControl(msg: ControlMessage): void {
    if (msg.type === 'kick') this.sessions.kick(msg.userId, msg.deviceId, msg.code, msg.reason);
    else this.sessions.replace(msg.userId, msg.deviceId, msg.keepSessionId);
  }
}
