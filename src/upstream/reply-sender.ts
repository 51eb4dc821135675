/**
 * Turns a service's answer into an ordinary message to the user: a Deliver from the service (device =
 * the instance, `from_service` = the service name, which no client can set), through the same router as the access API's Push, so it reaches the user on any node
 * and a QoS-1 answer is stored and replayed. The client sees `client_msg_id` "<reply_to>@<user_id>",
 * the same shape Push gives, which is also the QoS-1 dedup key (a service resending its answer after a
 * failover does not produce a second message).
 */
import type { MessageIntake } from '../routing/message-router.js';

/** What a reply needs from the routing layer. */
export type ReplyRouter = Pick<MessageIntake, 'send'>;

export interface ServiceReply {
  service: string;
  instanceId: string;
  userId: string;
  payload: Uint8Array;
  qos: 0 | 1;
  replyTo: string;
}

/** Sends one reply; resolves when accepted (QoS 1: stored). */
export function sendServiceReply(router: ReplyRouter, r: ServiceReply): Promise<unknown> {
  return router.send(
    { userId: r.service, deviceId: r.instanceId, fromService: r.service },
    {
      toUser: r.userId,
      payload: r.payload,
      qos: r.qos,
      clientMsgId: r.replyTo === '' ? '' : `${r.replyTo}@${r.userId}`,
      ephemeral: false,
    },
  );
}
