/**
 * Loads `proto/ferry/v1/upstream.proto` at run time with @grpc/proto-loader (no generated code), with
 * the same loader options as the access API: camelCase fields, 64-bit integers as numbers, oneof
 * names filled in. Used by the gateway's service and by service-side clients (tests, examples).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The proto file; src/upstream/ and dist/upstream/ are both two levels below the package root. */
export const UPSTREAM_PROTO_PATH = fileURLToPath(
  new URL('../../proto/ferry/v1/upstream.proto', import.meta.url),
);

/** Fully qualified service name. */
export const UPSTREAM_SERVICE_NAME = 'ferry.upstream.v1.Upstream';

let cached: protoLoader.PackageDefinition | null = null;

/** The parsed package definition (loaded once per process). */
export function upstreamPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(UPSTREAM_PROTO_PATH, {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return cached;
}

/** The Upstream service definition (method paths, serializers). */
export function upstreamServiceDefinition(): grpc.ServiceDefinition {
  return upstreamPackageDefinition()[UPSTREAM_SERVICE_NAME] as grpc.ServiceDefinition;
}

/** A client constructor for Upstream (service instances use it to connect). */
export function upstreamClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(upstreamServiceDefinition(), 'Upstream');
}

/** A message from the gateway to an instance, as the loader builds it. */
export interface GatewayMessageOut {
  welcome?: { nodeId: string };
  batch?: { batchId: number; messages: ServiceMessageOut[] };
}

export interface ServiceMessageOut {
  msgId: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  nodeId: string;
  type: number;
  payload: Uint8Array;
  priority: string;
  timestampMs: number;
  attempt: number;
}

/** A message from an instance, as the loader decodes it (`kind` names the oneof member). */
export interface InstanceMessageIn {
  kind?: 'hello' | 'ack' | 'reply';
  hello?: { service?: string; instanceId?: string } | null;
  ack?: { batchId?: number } | null;
  reply?: { userId?: string; payload?: Uint8Array; qos?: number; replyTo?: string } | null;
}
