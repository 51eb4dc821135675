/**
 * A grpc-js client for AccessGateway, built from the same proto at run time: message-role nodes use it
 * to validate tokens, and so do the CLI-less examples, tests and the bench. The API key rides on every
 * call as `x-api-key` metadata (added by an interceptor, so it also works on plaintext channels, where
 * grpc-js refuses call credentials).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { accessClientConstructor } from './proto.js';

/** How to reach an access service. */
export interface AccessClientOptions {
  /** API key sent as `x-api-key`; '' = none (mTLS callers). */
  apiKey?: string;
  /** TLS: CA to trust (PEM path), and a client certificate and key for mTLS. Absent = plaintext. */
  tls?: { ca?: string; cert?: string; key?: string } | null;
  /** Extra channel options (keepalive, message sizes). */
  channelOptions?: grpc.ChannelOptions;
}

/** An AccessGateway client whose methods take (request, metadata?, options?, callback). */
export type AccessClient = grpc.Client &
  Record<string, grpc.MethodDefinition<unknown, unknown> & ((...args: unknown[]) => unknown)>;

/** Creates a client for `target` (`host:port`). Close it with `client.close()`. */
export function createAccessClient(target: string, opts: AccessClientOptions = {}): AccessClient {
  const Ctor = accessClientConstructor();
  const key = opts.apiKey ?? '';
  const interceptors: grpc.Interceptor[] =
    key === ''
      ? []
      : [
          (options, nextCall) =>
            new grpc.InterceptingCall(nextCall(options), {
              start(metadata, listener, next) {
                metadata.set('x-api-key', key);
                next(metadata, listener);
              },
            }),
        ];
  const tls = opts.tls;
  const creds =
    tls === undefined || tls === null
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(
          tls.ca ? readFileSync(tls.ca) : null,
          tls.key ? readFileSync(tls.key) : null,
          tls.cert ? readFileSync(tls.cert) : null,
        );
  return new Ctor(target, creds, { ...opts.channelOptions, interceptors }) as unknown as AccessClient;
}

/** Calls a unary method and resolves with its response; rejects with the grpc-js ServiceError. */
export function callUnary<Res = Record<string, unknown>>(
  client: AccessClient,
  method: string,
  request: Record<string, unknown>,
  opts: { deadlineMs?: number; metadata?: grpc.Metadata } = {},
): Promise<Res> {
  const fn = client[method] as unknown as (
    req: unknown,
    md: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Res) => void,
  ) => void;
  if (typeof fn !== 'function') return Promise.reject(new TypeError(`no method ${method}`));
  const options: grpc.CallOptions = {};
  if (opts.deadlineMs !== undefined) options.deadline = Date.now() + opts.deadlineMs;
  return new Promise((resolve, reject) =>
    fn.call(client, request, opts.metadata ?? new grpc.Metadata(), options, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    ),
  );
}
