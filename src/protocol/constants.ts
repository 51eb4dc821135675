/**
 * Wire constants of the Ferry client protocol, version 1 (docs/protocol.md is the normative text; the
 * section each constant comes from is cited beside it). Everything a client implementer must match
 * byte-for-byte or limit-for-limit lives here, so the decoder, the validator and the documentation
 * check read one source.
 */

/** §2.1: bytes in the length prefix of a frame on stream transports (u32, big-endian). */
export const LENGTH_PREFIX_BYTES = 4;

/** §2.1: the largest length a u32 prefix can declare; `maxFrameBytes` may not exceed it. */
export const MAX_DECLARABLE_FRAME_BYTES = 0xffff_ffff;

/** §2.4: default largest encoded Frame (without its prefix), `limits.maxFrameBytes`. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * §5.9: room kept between a client's payload limit and the frame limit, so that the Deliver frame
 * the server builds around a payload (sender ids, topic, server id, seq, timestamp, client message id,
 * tags) still fits in `maxFrameBytes` on the recipient's side. 1 KiB covers the largest identifiers
 * the default limits allow (2 x 128 + 256 + 128 bytes plus ~60 bytes of tags and numbers).
 */
export const PAYLOAD_HEADROOM_BYTES = 1024;

/** §5.9: longest `client_msg_id`, in UTF-8 bytes. */
export const MAX_CLIENT_MSG_ID_BYTES = 128;

/** §5.9: longest `Authenticate.token`, in UTF-8 bytes (a JWT with an RSA-4096 signature is ~1 KiB). */
export const MAX_TOKEN_BYTES = 8 * 1024;

/** §5.9: longest `Authenticate.client` (free-form client name and version), in UTF-8 bytes. */
export const MAX_CLIENT_NAME_BYTES = 256;

/** §5.7, §5.9: most user ids in one PresenceQuery. */
export const MAX_PRESENCE_QUERY_USERS = 100;

/**
 * §5.8: longest Disconnect reason in UTF-8 bytes: a WebSocket close frame carries at most 125 bytes
 * of payload, 2 of which are the code (RFC 6455 §5.5).
 */
export const MAX_DISCONNECT_REASON_BYTES = 123;

/** §5.3: the QoS values of this protocol version (enum ferry.v1.QoS). */
export const QOS_AT_MOST_ONCE = 0;
export const QOS_AT_LEAST_ONCE = 1;

/**
 * §3.2: Frame field numbers of the body oneof, by body name. Field 1 is the request id; any other
 * field number on a Frame is a body this version does not know.
 */
export const BODY_FIELD_NUMBERS = {
  authenticate: 10,
  authResult: 11,
  send: 12,
  sendAck: 13,
  deliver: 14,
  ack: 15,
  ping: 16,
  pong: 17,
  subscribe: 18,
  unsubscribe: 19,
  publish: 20,
  presenceQuery: 21,
  presenceResult: 22,
  reply: 23,
  error: 24,
  disconnect: 25,
  serviceRequest: 26,
  serviceAck: 27,
} as const;

/** §3.1: the Frame field number of the request id. */
export const FRAME_ID_FIELD_NUMBER = 1;

/** §4.1: protobuf wire type of length-delimited fields (strings, bytes, messages). */
export const WIRE_TYPE_LEN = 2;
