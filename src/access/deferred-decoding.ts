/**
 * Request bodies decoded after the caller is known. grpc-js deserializes a request before it calls
 * the handler and answers INTERNAL when that fails, so an unauthenticated caller's garbage got
 * INTERNAL (and cost a protobuf decode) before its API key was ever looked at. Serving a definition
 * whose request deserializers pass the bytes through lets the handler check the key first
 * (UNAUTHENTICATED) and then decode, turning a malformed body into INVALID_ARGUMENT.
 *
 * Reflection is unaffected: it reads the package definition's file descriptors, which keep the real
 * message types (`requestType` stays on every method).
 */
import type * as grpc from '@grpc/grpc-js';
import { ReplyCode, RequestError } from '../errors.js';

/** A service definition that hands handlers raw request bytes, and the decoders to use afterwards. */
export interface DeferredDecoding {
  /** Serve this: every `requestDeserialize` returns the received bytes as they are. */
  readonly definition: grpc.ServiceDefinition;
  /**
   * Decodes a request of `method` (the definition key, e.g. "Push") with the service's own
   * deserializer. Throws RequestError BAD_REQUEST (gRPC INVALID_ARGUMENT) when the bytes are not
   * that message.
   */
  decode(method: string, bytes: Buffer): Record<string, unknown>;
}

/** Wraps `definition` (as @grpc/proto-loader builds it) for decoding after authentication. */
export function deferDecoding(definition: grpc.ServiceDefinition): DeferredDecoding {
  const raw: Record<string, grpc.MethodDefinition<Buffer, unknown>> = {};
  const decoders = new Map<string, (bytes: Buffer) => unknown>();
  for (const [method, def] of Object.entries(definition)) {
    raw[method] = { ...def, requestDeserialize: passThrough };
    decoders.set(method, def.requestDeserialize);
  }
  return {
    definition: raw,
    decode(method, bytes) {
      const decode = decoders.get(method);
      if (decode === undefined) throw new RequestError(ReplyCode.BAD_REQUEST, `unknown method ${method}`);
      try {
        return decode(bytes) as Record<string, unknown>;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new RequestError(ReplyCode.BAD_REQUEST, `malformed ${method} request body: ${why}`);
      }
    },
  };
}

function passThrough(bytes: Buffer): Buffer {
  return bytes;
}
