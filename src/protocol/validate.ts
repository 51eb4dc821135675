import { DisconnectCode, ProtocolError, ReplyCode, RequestError } from '../errors.js';
import type { Frame, FrameBody } from './codec.js';
import {
  MAX_CLIENT_MSG_ID_BYTES,
  MAX_CLIENT_NAME_BYTES,
  MAX_DISCONNECT_REASON_BYTES,
  MAX_PRESENCE_QUERY_USERS,
  MAX_TOKEN_BYTES,
  PAYLOAD_HEADROOM_BYTES,
  QOS_AT_LEAST_ONCE,
  QOS_AT_MOST_ONCE,
} from './constants.js';
import { identifierProblem } from './identifier.js';

/** Per-deployment limits the validator enforces; all sizes are UTF-8 bytes. */
export interface ValidationLimits {
  /** Longest user id or device id (`limits.maxUserIdLength`). */
  maxUserIdLength: number;
  /** Longest topic name (`limits.maxTopicLength`). */
  maxTopicLength: number;
  /** Largest Send/Publish payload. */
  maxPayloadBytes: number;
}

/**
 * Derives the validator's limits from configuration. The payload limit is the frame limit less
 * PAYLOAD_HEADROOM_BYTES, so the Deliver frame built around an accepted payload still fits in
 * `maxFrameBytes` for its recipients (never below 0).
 */
export function validationLimits(limits: {
  maxFrameBytes: number;
  maxTopicLength: number;
  maxUserIdLength: number;
}): ValidationLimits {
  return {
    maxUserIdLength: limits.maxUserIdLength,
    maxTopicLength: limits.maxTopicLength,
    maxPayloadBytes: Math.max(0, limits.maxFrameBytes - PAYLOAD_HEADROOM_BYTES),
  };
}

/** A body a client may send (docs/protocol.md §3.2); every other body is server-to-client only. */
export type ClientBody =
  | 'authenticate'
  | 'send'
  | 'ack'
  | 'ping'
  | 'pong'
  | 'subscribe'
  | 'unsubscribe'
  | 'publish'
  | 'presenceQuery'
  | 'disconnect'
  | 'serviceRequest';

/** Checks one kind of client frame; returns normally when it may be processed (see validateClientFrame). */
export type FrameRule = (frame: Frame, limits: ValidationLimits) => void;

/**
 * The rules of docs/protocol.md §5.9, one per client body. The session's handler table
 * (session/frame-handlers.ts) pairs each with its handler, so a new body needs both or does not compile.
 */
export const CLIENT_FRAME_RULES: { readonly [K in ClientBody]: FrameRule } = {
  authenticate(frame, limits) {
    const b = frame.authenticate ?? {};
    const token = b.token ?? '';
    if (token.length === 0) throw badRequest('authenticate.token is empty');
    checkMaxBytes('authenticate.token', token, MAX_TOKEN_BYTES);
    // An empty device_id means "the token's device, else 'default'".
    if (b.deviceId) checkIdentifier('authenticate.device_id', b.deviceId, limits.maxUserIdLength);
    checkSafeInteger('authenticate.last_seq', b.lastSeq);
    const client = b.client ?? '';
    checkMaxBytes('authenticate.client', client, MAX_CLIENT_NAME_BYTES);
    checkNoControl('authenticate.client', client);
  },
  send(frame, limits) {
    const b = frame.send ?? {};
    checkIdentifier('send.to_user', b.toUser ?? '', limits.maxUserIdLength);
    checkMessage('send', b, limits);
  },
  publish(frame, limits) {
    const b = frame.publish ?? {};
    checkTopic('publish.topic', b.topic ?? '', limits.maxTopicLength);
    checkMessage('publish', b, limits);
  },
  ack(frame) {
    // seq 0 acknowledges nothing and is accepted as a no-op.
    checkSafeInteger('ack.seq', frame.ack?.seq);
  },
  // Timestamps are opaque to the server and echoed as received.
  ping: acceptAsIs,
  pong: acceptAsIs,
  subscribe(frame, limits) {
    const b = frame.subscribe ?? {};
    checkTopic('subscribe.topic', b.topic ?? '', limits.maxTopicLength);
    checkSafeInteger('subscribe.since_seq', b.sinceSeq);
    if (b.fromStart === true && (b.sinceSeq ?? 0) > 0)
      throw badRequest('subscribe.from_start replays from the first offset: since_seq must be 0');
    checkMaxBytes('subscribe.token', b.token ?? '', MAX_TOKEN_BYTES);
  },
  unsubscribe(frame, limits) {
    checkTopic('unsubscribe.topic', frame.unsubscribe?.topic ?? '', limits.maxTopicLength);
  },
  presenceQuery(frame, limits) {
    const ids = frame.presenceQuery?.userIds ?? [];
    if (ids.length === 0) throw badRequest('presence_query.user_ids is empty');
    if (ids.length > MAX_PRESENCE_QUERY_USERS) {
      throw badRequest(
        `presence_query.user_ids has ${ids.length} entries; the limit is ${MAX_PRESENCE_QUERY_USERS}`,
      );
    }
    const seen = new Set<string>();
    for (const id of ids) {
      checkIdentifier('presence_query.user_ids[]', id, limits.maxUserIdLength);
      // One result entry per asked id keeps the answer a 1:1 map; a repeat is a client bug.
      if (seen.has(id)) throw badRequest(`presence_query.user_ids lists ${JSON.stringify(id)} twice`);
      seen.add(id);
    }
  },
  disconnect(frame) {
    const code = frame.disconnect?.code ?? 0;
    if (code !== 0 && (code < 4000 || code > 4999)) {
      throw badRequest(`disconnect.code ${code} is not 0 or in 4000-4999`);
    }
    checkMaxBytes('disconnect.reason', frame.disconnect?.reason ?? '', MAX_DISCONNECT_REASON_BYTES);
  },
  serviceRequest(frame, limits) {
    const b = frame.serviceRequest ?? {};
    if ((b.type ?? 0) === 0) throw badRequest('service_request.type must be non-zero');
    const payloadBytes = b.payload?.length ?? 0;
    if (payloadBytes > limits.maxPayloadBytes) {
      throw new RequestError(
        ReplyCode.PAYLOAD_TOO_LARGE,
        `service_request.payload is ${payloadBytes} bytes; the limit is ${limits.maxPayloadBytes}`,
      );
    }
    const msgId = b.msgId ?? '';
    if (msgId === '') throw badRequest('service_request.msg_id is required');
    checkMaxBytes('service_request.msg_id', msgId, MAX_CLIENT_MSG_ID_BYTES);
    checkNoControl('service_request.msg_id', msgId);
  },
};

/** The bodies a client may send (docs/protocol.md §3.2). */
export const CLIENT_BODIES: ReadonlySet<FrameBody> = new Set<FrameBody>(
  Object.keys(CLIENT_FRAME_RULES) as ClientBody[],
);

/** True when `body` is one a client may send (narrows it for CLIENT_FRAME_RULES lookups). */
export function isClientBody(body: FrameBody | undefined): body is ClientBody {
  return body !== undefined && Object.hasOwn(CLIENT_FRAME_RULES, body);
}

/**
 * Throws for a frame no client may send: ProtocolError BAD_FRAME (4500) for a frame without a body
 * (decodeFrame never returns one), PROTOCOL_VIOLATION (4503) for a server-only body (AuthResult,
 * SendAck, Deliver, PresenceResult, Reply, Error): a client that sends one is broken, so the
 * connection ends. Returns the body otherwise.
 */
export function clientBodyOf(frame: Frame): ClientBody {
  const body = frame.body;
  if (isClientBody(body)) return body;
  if (body === undefined) throw new ProtocolError(DisconnectCode.BAD_FRAME, 'frame has no body');
  throw new ProtocolError(
    DisconnectCode.PROTOCOL_VIOLATION,
    `${body} is a server-to-client frame; a client must not send it`,
  );
}

/**
 * Checks a decoded client-to-server frame against the rules of docs/protocol.md §5.9, statelessly
 * (session rules such as "Authenticate first" or "not twice" are the session's). Returns normally
 * when the frame may be processed.
 *
 * Throws:
 *  - ProtocolError from `clientBodyOf` for a server-only body or none;
 *  - RequestError BAD_REQUEST (101) for a field that breaks a rule, PAYLOAD_TOO_LARGE (105) for a
 *    payload over `limits.maxPayloadBytes`: the request fails, the connection stays. Messages name
 *    the proto field (`send.to_user`) and the rule, so a client developer can fix the call. (For an
 *    Authenticate the session turns it into 4504 AUTH_FAILED: there is no identity to answer yet.)
 */
export function validateClientFrame(frame: Frame, limits: ValidationLimits): void {
  CLIENT_FRAME_RULES[clientBodyOf(frame)](frame, limits);
}

function acceptAsIs(): void {
  // Nothing to check.
}

/** The fields Send and Publish share. */
interface MessageFields {
  payload?: Uint8Array | null;
  qos?: number | null;
  clientMsgId?: string | null;
  ephemeral?: boolean | null;
}

function checkMessage(name: 'send' | 'publish', b: MessageFields, limits: ValidationLimits): void {
  const payloadBytes = b.payload?.length ?? 0;
  if (payloadBytes > limits.maxPayloadBytes) {
    throw new RequestError(
      ReplyCode.PAYLOAD_TOO_LARGE,
      `${name}.payload is ${payloadBytes} bytes; the limit is ${limits.maxPayloadBytes}`,
    );
  }
  const qos = b.qos ?? QOS_AT_MOST_ONCE;
  if (qos !== QOS_AT_MOST_ONCE && qos !== QOS_AT_LEAST_ONCE) {
    throw badRequest(`${name}.qos ${qos} is not 0 (at most once) or 1 (at least once)`);
  }
  const clientMsgId = b.clientMsgId ?? '';
  if (clientMsgId.length > 0) {
    checkMaxBytes(`${name}.client_msg_id`, clientMsgId, MAX_CLIENT_MSG_ID_BYTES);
    checkNoControl(`${name}.client_msg_id`, clientMsgId);
  } else if (qos === QOS_AT_LEAST_ONCE) {
    // QoS 1 deduplicates retries by (sender, client_msg_id); without it a retry would be stored twice.
    throw badRequest(`${name}.client_msg_id is required with qos 1`);
  }
  if (b.ephemeral === true && qos === QOS_AT_LEAST_ONCE) {
    // Ephemeral frames are the first to be dropped; QoS 1 frames are never dropped. Both cannot hold.
    throw badRequest(`${name}.ephemeral cannot be combined with qos 1`);
  }
}

/** User ids and device ids: the one identifier rule (identifier.ts), `max` UTF-8 bytes. */
function checkIdentifier(field: string, value: string, max: number): void {
  const problem = identifierProblem(value, max);
  if (problem !== null) throw badRequest(`${field} ${problem}`);
}

// Unicode White_Space or a control character (C0, DEL, C1): never part of a topic name.
const TOPIC_FORBIDDEN = /[\s\p{Cc}]/u;
const CONTROL = /\p{Cc}/u;

/** Topic names: non-empty, at most `max` UTF-8 bytes, no whitespace, no control characters. */
function checkTopic(field: string, value: string, max: number): void {
  if (value.length === 0) throw badRequest(`${field} is empty`);
  checkMaxBytes(field, value, max);
  const at = value.search(TOPIC_FORBIDDEN);
  if (at >= 0) {
    throw badRequest(`${field} contains whitespace or a control character (U+${codePointHex(value, at)})`);
  }
}

function checkNoControl(field: string, value: string): void {
  const at = value.search(CONTROL);
  if (at >= 0) throw badRequest(`${field} contains a control character (U+${codePointHex(value, at)})`);
}

function checkMaxBytes(field: string, value: string, max: number): void {
  // Cheap test first: each UTF-16 code unit is at least one UTF-8 byte.
  if (value.length > max || Buffer.byteLength(value, 'utf8') > max) {
    throw badRequest(`${field} is longer than ${max} bytes (UTF-8)`);
  }
}

/** Sequence numbers are uint64 on the wire but compared exactly, so they must be below 2^53. */
function checkSafeInteger(field: string, value: number | null | undefined): void {
  const v = value ?? 0;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw badRequest(`${field} ${v} is not an integer in 0..2^53-1`);
  }
}

function codePointHex(value: string, at: number): string {
  return (value.codePointAt(at) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

function badRequest(message: string): RequestError {
  return new RequestError(ReplyCode.BAD_REQUEST, message);
}

/**
 * docs/protocol.md §2.3: a WebTransport datagram from a client may carry only a Send or Publish with
 * `ephemeral = true` and QoS 0 (they may be lost, duplicated or reordered, and nothing acks them).
 * Throws ProtocolError PROTOCOL_VIOLATION (4503) for anything else. The body itself is then checked
 * by `validateClientFrame` like any other frame.
 */
export function checkDatagramFrame(frame: Frame): void {
  const kind = frame.body;
  const b = kind === 'send' ? frame.send : kind === 'publish' ? frame.publish : null;
  const qos = b?.qos ?? QOS_AT_MOST_ONCE;
  if (b && b.ephemeral === true && qos === QOS_AT_MOST_ONCE) return;
  const what = b
    ? `a ${kind} with qos ${qos}, ephemeral ${b.ephemeral === true}`
    : (kind ?? 'an empty frame');
  throw new ProtocolError(
    DisconnectCode.PROTOCOL_VIOLATION,
    `a datagram may carry only an ephemeral QoS-0 send or publish, not ${what}`,
  );
}
