/**
 * The descriptors of the standard gRPC services the access port serves besides Ferry's own:
 * grpc.health.v1.Health (grpc-health-check) and grpc.reflection.v1 / v1alpha.ServerReflection
 * (@grpc/reflection). Both packages register their service from a proto file of their own and tell
 * reflection nothing about it, so without these a tool that knows no .proto file (grpcurl,
 * Postman) could list the services but not resolve them: `grpcurl -plaintext HOST:PORT
 * grpc.health.v1.Health/Check` needs Health's descriptor from reflection.
 */
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS } from './proto.js';

const require = createRequire(import.meta.url);

/** The proto files those packages ship, as they serve them. */
function standardProtoPaths(): string[] {
  const { protoPath } = require('grpc-health-check') as { protoPath: string };
  const reflectionRoot = require.resolve('@grpc/reflection/package.json').replace(/package\.json$/, '');
  return [
    protoPath,
    `${reflectionRoot}build/proto/grpc/reflection/v1/reflection.proto`,
    `${reflectionRoot}build/proto/grpc/reflection/v1alpha/reflection.proto`,
  ];
}

let cached: protoLoader.PackageDefinition | null = null;

/** One package definition holding Health and both reflection versions (loaded once per process). */
export function standardPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= Object.assign({}, ...standardProtoPaths().map((p) => protoLoader.loadSync(p, LOADER_OPTIONS)));
  return cached!;
}
