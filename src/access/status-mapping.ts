/**
 * The one table from gateway errors to gRPC status codes (style.md: anything unmapped is INTERNAL).
 * Each error also travels as the standard rich error model: the `grpc-status-details-bin` trailer holds
 * a google.rpc.Status with a google.rpc.ErrorInfo (reason = the stable FERRY_ERR_* code) and, when the
 * caller may retry, a google.rpc.RetryInfo, so grpcurl and other clients can show and act on them.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import {
  AuthError,
  BusUnavailableError,
  ConfigError,
  GatewayError,
  PresenceUnavailableError,
  ReplyCode,
  RequestError,
  StoreError,
} from '../errors.js';

/** ErrorInfo.domain of every Ferry error. */
export const ERROR_DOMAIN = 'ferry';

const Status = grpc.status;

const REPLY_STATUS: Record<number, grpc.status> = {
  [ReplyCode.INTERNAL]: Status.INTERNAL,
  [ReplyCode.BAD_REQUEST]: Status.INVALID_ARGUMENT,
  [ReplyCode.NOT_FOUND]: Status.NOT_FOUND,
  [ReplyCode.PERMISSION_DENIED]: Status.PERMISSION_DENIED,
  [ReplyCode.RATE_LIMITED]: Status.RESOURCE_EXHAUSTED,
  [ReplyCode.PAYLOAD_TOO_LARGE]: Status.INVALID_ARGUMENT,
  [ReplyCode.ALREADY_AUTHENTICATED]: Status.FAILED_PRECONDITION,
  [ReplyCode.UNAVAILABLE]: Status.UNAVAILABLE,
  [ReplyCode.LIMIT_EXCEEDED]: Status.RESOURCE_EXHAUSTED,
  [ReplyCode.BUSY]: Status.UNAVAILABLE,
};

/** What a failed call answers with. */
export interface MappedStatus {
  code: grpc.status;
  details: string;
  /** FERRY_ERR_* (ErrorInfo.reason). */
  reason: string;
  retryAfterMs: number;
  metadata: Record<string, string>;
}

/**
 * Bus and presence failures reach a caller as a retryable 107 would, with a fixed text: their own
 * messages are for the node's logs (they name Redis and its nodes).
 */
const BUS_UNAVAILABLE = new RequestError(ReplyCode.UNAVAILABLE, 'bus unavailable', {
  retryable: true,
  retryAfterMs: 1000,
});
const PRESENCE_UNAVAILABLE = new RequestError(ReplyCode.UNAVAILABLE, 'presence unavailable', {
  retryable: true,
  retryAfterMs: 1000,
});

/**
 * Maps any thrown value to a status. RequestErrors, AuthErrors and ConfigErrors keep their message
 * (they are written for the caller); store, bus and presence failures get a fixed text (their own
 * messages name Redis and its nodes, for the node's logs); anything else a generic one.
 */
export function mapError(err: unknown): MappedStatus {
  if (err instanceof BusUnavailableError) return mapError(BUS_UNAVAILABLE);
  if (err instanceof PresenceUnavailableError) return mapError(PRESENCE_UNAVAILABLE);
  if (err instanceof RequestError) {
    const code = REPLY_STATUS[err.replyCode] ?? Status.INTERNAL;
    const retryAfterMs = err.retryable ? Math.max(err.retryAfterMs, 1) : 0;
    return base(code, err, retryAfterMs, { replyCode: String(err.replyCode) });
  }
  if (err instanceof AuthError) {
    return base(Status.UNAUTHENTICATED, err, 0, { disconnectCode: String(err.disconnectCode) });
  }
  if (err instanceof StoreError) {
    return { ...base(Status.UNAVAILABLE, err, 1000, {}), details: 'store unavailable' };
  }
  if (err instanceof ConfigError) return base(Status.FAILED_PRECONDITION, err, 0, {});
  if (err instanceof GatewayError) return base(Status.INTERNAL, err, 0, {});
  return {
    code: Status.INTERNAL,
    details: 'internal error',
    reason: 'FERRY_ERR_REQUEST_INTERNAL',
    retryAfterMs: 0,
    metadata: {},
  };
}

function base(
  code: grpc.status,
  err: GatewayError,
  retryAfterMs: number,
  metadata: Record<string, string>,
): MappedStatus {
  return { code, details: err.message, reason: err.code, retryAfterMs, metadata };
}

/** A grpc-js error object (what a handler's callback or `call.emit('error')` takes) for `err`. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const m = mapError(err);
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', encodeStatusDetails(m));
  metadata.set('ferry-error-code', m.reason);
  if (m.retryAfterMs > 0) metadata.set('retry-after-ms', String(m.retryAfterMs));
  return { code: m.code, details: m.details, metadata };
}

// google/rpc/status.proto and error_details.proto, only the messages used here.
// INamespace's typing has no map fields (keyType); the JSON descriptor format does.
const RPC_JSON: unknown = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
};
const RPC = protobuf.Root.fromJSON(RPC_JSON as protobuf.INamespace);
const StatusType = RPC.lookupType('google.rpc.Status');
const ErrorInfoType = RPC.lookupType('google.rpc.ErrorInfo');
const RetryInfoType = RPC.lookupType('google.rpc.RetryInfo');

/** google.rpc.Status bytes for the `grpc-status-details-bin` trailer. */
export function encodeStatusDetails(m: MappedStatus): Buffer {
  const details = [
    {
      type_url: 'type.googleapis.com/google.rpc.ErrorInfo',
      value: ErrorInfoType.encode({ reason: m.reason, domain: ERROR_DOMAIN, metadata: m.metadata }).finish(),
    },
  ];
  if (m.retryAfterMs > 0) {
    const delay = { seconds: Math.floor(m.retryAfterMs / 1000), nanos: (m.retryAfterMs % 1000) * 1e6 };
    details.push({
      type_url: 'type.googleapis.com/google.rpc.RetryInfo',
      value: RetryInfoType.encode({ retry_delay: delay }).finish(),
    });
  }
  return Buffer.from(StatusType.encode({ code: m.code, message: m.details, details }).finish());
}

/** The decoded details of a status trailer (clients, tests). Unknown detail types are skipped. */
export function decodeStatusDetails(bytes: Uint8Array): {
  code: number;
  message: string;
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  retryDelayMs?: number;
} {
  const s = StatusType.toObject(StatusType.decode(bytes), { longs: Number, defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const out: ReturnType<typeof decodeStatusDetails> = { code: s.code, message: s.message };
  for (const d of s.details) {
    if (d.type_url.endsWith('/google.rpc.ErrorInfo')) {
      out.errorInfo = ErrorInfoType.toObject(ErrorInfoType.decode(d.value), {
        defaults: true,
      }) as NonNullable<typeof out.errorInfo>;
    } else if (d.type_url.endsWith('/google.rpc.RetryInfo')) {
      const r = RetryInfoType.toObject(RetryInfoType.decode(d.value), { longs: Number, defaults: true }) as {
        retry_delay?: { seconds: number; nanos: number };
      };
      out.retryDelayMs = (r.retry_delay?.seconds ?? 0) * 1000 + Math.round((r.retry_delay?.nanos ?? 0) / 1e6);
    }
  }
  return out;
}
