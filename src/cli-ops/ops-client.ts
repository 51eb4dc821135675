/**
 * How the operator commands reach a node: the gRPC access API, and what they say when that fails
 * (unreachable, key refused, request refused) instead of a grpc-js trace.
 */
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { callUnary, createAccessClient, type AccessClient } from '../access/client.js';
import { OpsError, type OpsTarget } from './ops-target.js';

/** A connected access client and a `call` that turns gRPC failures into OpsErrors. */
export class OpsClient {
  private readonly client: AccessClient;

  constructor(private readonly target: OpsTarget) {
    this.client = createAccessClient(target.server, {
      apiKey: target.apiKey,
      tls: target.tlsCa === '' ? null : { ca: target.tlsCa },
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
    });
  }

  async call<T = Record<string, unknown>>(method: string, request: Record<string, unknown>): Promise<T> {
    try {
      return await callUnary<T>(this.client, method, request, { deadlineMs: this.target.timeoutMs });
    } catch (err) {
      throw new OpsError(this.explain(err as ServiceError));
    }
  }

  close(): void {
    this.client.close();
  }

  private explain(err: ServiceError): string {
    const { server, keySource } = this.target;
    switch (err.code) {
      case Status.UNAVAILABLE:
      case Status.DEADLINE_EXCEEDED:
        return `cannot reach the access API at ${server} (${reachDetail(err.details)}): is a node running there with gRPC on? Set --server or FERRY_SERVER`;
      case Status.UNAUTHENTICATED:
        return `the access API at ${server} refused the API key from ${keySource} (${err.details}): pass the right one with --api-key or FERRY_API_KEY`;
      case Status.PERMISSION_DENIED:
        return `the API key from ${keySource} may not do this: ${err.details}`;
      default:
        return `${Status[err.code] ?? err.code}: ${err.details || err.message}`;
    }
  }
}

/** grpc-js's UNAVAILABLE detail without its empty "Resolution note" tail. */
function reachDetail(details: string): string {
  return (details || 'unavailable').replace(/\.?\s*Resolution note:\s*$/, '');
}
