/**
 * Helpers for the access-gateway integration tests: real grpc-js clients built from the proto files
 * (AccessGateway, grpc.health.v1, server reflection), and a way to collect a presence stream.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { callUnary, createAccessClient, type AccessClient } from '../../../src/access/client.js';
import { decodeStatusDetails } from '../../../src/access/status-mapping.js';

/** API key every access test gateway is started with. */
export const API_KEY = 'access-test-key-0123456789abcdef';
export const API_KEY_FLAGS = ['--access-api-key', API_KEY];

export function accessClient(target: string, apiKey: string = API_KEY): AccessClient {
  return createAccessClient(target, { apiKey });
}

export { callUnary };

/** Resolves with the gRPC error a call failed with (rejects if it succeeded). */
export async function callError(
  client: AccessClient,
  method: string,
  req: Record<string, unknown>,
): Promise<grpc.ServiceError & { reason: string }> {
  try {
    await callUnary(client, method, req, { deadlineMs: 5000 });
  } catch (err) {
    const e = err as grpc.ServiceError;
    const bin = e.metadata?.get('grpc-status-details-bin')[0];
    const reason = bin instanceof Buffer ? (decodeStatusDetails(bin).errorInfo?.reason ?? '') : '';
    return Object.assign(e, { reason });
  }
  throw new Error(`${method} succeeded, expected an error`);
}

const require = createRequire(import.meta.url);
const LOADER = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

type Ctor = grpc.ServiceClientConstructor;

/** A grpc.health.v1.Health client from grpc-health-check's proto. */
export function healthClient(target: string): grpc.Client & Record<string, unknown> {
  const { protoPath } = require('grpc-health-check') as { protoPath: string };
  const def = protoLoader.loadSync(protoPath, LOADER);
  const Health = grpc.loadPackageDefinition(def).grpc as unknown as { health: { v1: { Health: Ctor } } };
  return new Health.health.v1.Health(target, grpc.credentials.createInsecure()) as never;
}

/** A server-reflection client (`v1` or `v1alpha`) from @grpc/reflection's own protos. */
export function reflectionClient(
  target: string,
  version: 'v1' | 'v1alpha',
): grpc.Client & Record<string, unknown> {
  const root = require.resolve('@grpc/reflection/package.json').replace(/package\.json$/, '');
  const def = protoLoader.loadSync(`${root}build/proto/grpc/reflection/${version}/reflection.proto`, LOADER);
  const pkg = grpc.loadPackageDefinition(def).grpc as unknown as {
    reflection: Record<string, { ServerReflection: Ctor }>;
  };
  const Ctor = pkg.reflection[version]!.ServerReflection;
  return new Ctor(target, grpc.credentials.createInsecure()) as never;
}

/** Asks reflection for the service list. */
export function listServices(client: grpc.Client & Record<string, unknown>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const call = (
      client.ServerReflectionInfo as () => grpc.ClientDuplexStream<unknown, Record<string, unknown>>
    ).call(client);
    call.on('data', (res) => {
      const list = res.list_services_response as { service: { name: string }[] } | undefined;
      if (list) resolve(list.service.map((s) => s.name));
      else reject(new Error(`unexpected reflection answer ${JSON.stringify(res)}`));
      call.end();
    });
    call.on('error', reject);
    call.write({ list_services: '*' });
  });
}

/**
 * Asks reflection which file defines `symbol` (`file_containing_symbol`), as grpcurl does, and
 * resolves with the serialized FileDescriptorProtos it answers (the file and its dependencies), or
 * rejects with the reflection error (e.g. "Symbol not found").
 */
export function fileContainingSymbol(
  client: grpc.Client & Record<string, unknown>,
  symbol: string,
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const call = (
      client.ServerReflectionInfo as () => grpc.ClientDuplexStream<unknown, Record<string, unknown>>
    ).call(client);
    call.on('data', (res) => {
      const files = res.file_descriptor_response as { file_descriptor_proto: Buffer[] } | undefined;
      const error = res.error_response as { error_message: string } | undefined;
      if (files) resolve(files.file_descriptor_proto);
      else reject(new Error(`reflection refused ${symbol}: ${error?.error_message ?? JSON.stringify(res)}`));
      call.end();
    });
    call.on('error', reject);
    call.write({ file_containing_symbol: symbol });
  });
}

/** A WatchPresence stream with its events collected and a way to wait for one. */
export class PresenceWatch {
  readonly events: Record<string, unknown>[] = [];
  private waiters: {
    pred: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  readonly call: grpc.ClientReadableStream<Record<string, unknown>>;
  /** Resolves once the server has sent headers (the watch is registered). */
  readonly ready: Promise<void>;

  constructor(client: AccessClient, request: Record<string, unknown>) {
    const fn = client.WatchPresence as unknown as (
      req: unknown,
    ) => grpc.ClientReadableStream<Record<string, unknown>>;
    this.call = fn.call(client, request);
    this.ready = new Promise((resolve, reject) => {
      this.call.once('metadata', () => resolve());
      this.call.once('error', reject);
    });
    this.call.on('data', (e: Record<string, unknown>) => {
      const i = this.waiters.findIndex((w) => w.pred(e));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(e);
      else this.events.push(e);
    });
    this.call.on('error', () => undefined);
  }

  next(pred: (e: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const i = this.events.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching presence event')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Predicate: a presence event of `kind` for `userId`. */
export function presenceOf(kind: 'ONLINE' | 'OFFLINE', userId: string) {
  return (e: Record<string, unknown>): boolean =>
    e.kind === `PRESENCE_EVENT_KIND_${kind}` && (e.device as { userId: string }).userId === userId;
}
