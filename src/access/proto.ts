/**
 * Loads `proto/ferry/v1/access.proto` at run time with @grpc/proto-loader (no generated code to keep in
 * step). The same package definition feeds the server, the client, and server reflection.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The proto file; src/access/ and dist/access/ are both two levels below the package root. */
export const ACCESS_PROTO_PATH = fileURLToPath(new URL('../../proto/ferry/v1/access.proto', import.meta.url));

/** Fully qualified service name, as health checks and reflection name it. */
export const ACCESS_SERVICE_NAME = 'ferry.access.v1.AccessGateway';

/**
 * camelCase fields, 64-bit integers as JS numbers (every uint64 here is a millisecond timestamp, a count
 * or a sequence: all far below 2^53), enums as their names, defaults filled in, `oneofs` adds the
 * virtual field naming which member of a oneof is set.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: protoLoader.PackageDefinition | null = null;

/** The parsed package definition (loaded once per process). */
export function accessPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(ACCESS_PROTO_PATH, LOADER_OPTIONS);
  return cached;
}

/** The AccessGateway service definition (method paths, serializers). */
export function accessServiceDefinition(): grpc.ServiceDefinition {
  return accessPackageDefinition()[ACCESS_SERVICE_NAME] as grpc.ServiceDefinition;
}

/** A client constructor for AccessGateway. */
export function accessClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(accessServiceDefinition(), 'AccessGateway');
}
