/**
 * What an open session does with each kind of client frame: one entry per body, its rule
 * (protocol/validate.ts) beside its handler, so a body the protocol adds needs both or does not compile.
 * A handler throws RequestError to answer the request with an Error frame (the connection stays) and
 * ProtocolError to end the connection.
 */
import { ReplyCode, RequestError } from '../errors.js';
import type { Frame } from '../protocol/codec.js';
import { CLIENT_FRAME_RULES as RULES, type ClientBody, type FrameRule } from '../protocol/validate.js';
import {
  handlePresenceQuery,
  handlePublish,
  handleSend,
  handleServiceRequest,
  type RequestHost,
} from './session-requests.js';
import type { SubscribeRequest } from './topic-subscriptions.js';

/** What the handlers need from an open session, beyond the request handlers' host. */
export interface FrameHandlerHost extends RequestHost {
  /** The client acknowledged every user delivery up to `seq`. */
  onAck(seq: number): void;
  subscribe(id: number, req: SubscribeRequest): void;
  unsubscribe(id: number, topic: string): void;
  /** The client said goodbye. */
  closeByClient(): void;
}

export interface FrameKind {
  readonly validate: FrameRule;
  readonly handle: (host: FrameHandlerHost, frame: Frame) => void;
}

export const FRAME_KINDS: { readonly [K in ClientBody]: FrameKind } = {
  authenticate: {
    validate: RULES.authenticate,
    handle() {
      throw new RequestError(ReplyCode.ALREADY_AUTHENTICATED, 'this connection is already authenticated');
    },
  },
  send: { validate: RULES.send, handle: handleSend },
  publish: { validate: RULES.publish, handle: handlePublish },
  ack: { validate: RULES.ack, handle: (host, frame) => host.onAck(frame.ack?.seq ?? 0) },
  ping: {
    validate: RULES.ping,
    handle: (host, frame) =>
      host.sendFrame({ id: frame.id, pong: { timestampMs: frame.ping?.timestampMs ?? 0 } }),
  },
  pong: { validate: RULES.pong, handle: ignore },
  subscribe: {
    validate: RULES.subscribe,
    handle(host, frame) {
      const b = frame.subscribe!;
      host.subscribe(frame.id, {
        topic: b.topic ?? '',
        sinceSeq: b.sinceSeq ?? 0,
        fromStart: b.fromStart === true,
        token: b.token ?? '',
      });
    },
  },
  unsubscribe: {
    validate: RULES.unsubscribe,
    handle: (host, frame) => host.unsubscribe(frame.id, frame.unsubscribe?.topic ?? ''),
  },
  presenceQuery: { validate: RULES.presenceQuery, handle: handlePresenceQuery },
  serviceRequest: { validate: RULES.serviceRequest, handle: handleServiceRequest },
  disconnect: { validate: RULES.disconnect, handle: (host) => host.closeByClient() },
};

function ignore(): void {
  // A Pong only shows liveness, which the intake has already recorded.
}
