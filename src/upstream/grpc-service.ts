/**
 * The `ferry.upstream.v1.Upstream` gRPC service: one `Connect` stream per business-service instance.
 * Registered on the access API's grpc-js server (same port, same API keys), so a deployment has one
 * gRPC endpoint. The stream's protocol: Hello first (service, instance id), then BatchAck per Batch
 * received and Reply whenever the service answers a user. The caller's API key is checked when the
 * stream opens, before any message of it is decoded (a malformed message is INVALID_ARGUMENT).
 */
import * as grpc from '@grpc/grpc-js';
import { deferDecoding, type DeferredDecoding } from '../access/deferred-decoding.js';
import { AuthError } from '../errors.js';
import { identifierProblem } from '../protocol/identifier.js';
import type { Logger } from '../observability/logger.js';
import type { GrpcUpstream, InstanceLink } from './grpc-upstream.js';
import { upstreamServiceDefinition, type GatewayMessageOut, type InstanceMessageIn } from './grpc-proto.js';
import { sendServiceReply, type ReplyRouter } from './reply-sender.js';

/** Who may connect (the access API's caller check: API key metadata or mTLS). */
export interface UpstreamCallerCheck {
  identify(call: Pick<grpc.ServerDuplexStream<unknown, unknown>, 'metadata' | 'getAuthContext'>): {
    name: string;
  };
}

export interface UpstreamServiceDeps {
  upstream: GrpcUpstream;
  auth: UpstreamCallerCheck;
  nodeId: string;
  replies: ReplyRouter;
  /** True when the current route table has a grpc service of this name. */
  isGrpcService: (service: string) => boolean;
  maxUserIdLength: number;
  logger: Logger;
}

/** Messages arrive as bytes (deferDecoding) and are decoded once the caller is known. */
type Call = grpc.ServerDuplexStream<Buffer, GatewayMessageOut>;

/** The server the service joins: the access API's, which also counts refused calls when it can. */
export interface UpstreamServer {
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void;
  /** Counts a refused call (`ferry_grpc_refused_total`). */
  countRefused?(method: string, code: grpc.status): void;
}

/** Adds the Upstream service to `server` (before it binds). */
export function registerUpstreamService(server: UpstreamServer, deps: UpstreamServiceDeps): void {
  const decoding = deferDecoding(upstreamServiceDefinition());
  const refused = (code: grpc.status): void => server.countRefused?.('Upstream/Connect', code);
  server.addService(decoding.definition, {
    Connect: (call: Call) => connect(call, deps, decoding, refused),
  });
}

function connect(
  call: Call,
  deps: UpstreamServiceDeps,
  decoding: DeferredDecoding,
  refused: (code: grpc.status) => void,
): void {
  const log = deps.logger;
  try {
    deps.auth.identify(call);
  } catch (err) {
    const details = err instanceof AuthError ? err.message : 'not authenticated';
    refused(grpc.status.UNAUTHENTICATED);
    call.emit('error', { code: grpc.status.UNAUTHENTICATED, details });
    return;
  }
  let who: { service: string; instanceId: string } | null = null;
  const link: InstanceLink = {
    write: (msg) => void call.write(msg),
    end: () => call.end(),
  };
  const fail = (code: grpc.status, details: string): void => {
    refused(code);
    call.emit('error', { code, details });
  };
  call.on('data', (bytes: Buffer) => {
    let m: InstanceMessageIn;
    try {
      m = decoding.decode('Connect', bytes) as InstanceMessageIn;
    } catch (err) {
      return fail(grpc.status.INVALID_ARGUMENT, (err as Error).message);
    }
    if (who === null) {
      const service = m.hello?.service ?? '';
      const instanceId = m.hello?.instanceId ?? '';
      if (m.kind !== 'hello') return fail(grpc.status.FAILED_PRECONDITION, 'the first message must be hello');
      if (!deps.isGrpcService(service))
        return fail(grpc.status.NOT_FOUND, `no grpc service ${JSON.stringify(service)} in the route table`);
      if (instanceId === '' || instanceId.length > 128)
        return fail(grpc.status.INVALID_ARGUMENT, 'hello.instance_id must be 1-128 characters');
      who = { service, instanceId };
      call.write({ welcome: { nodeId: deps.nodeId } });
      deps.upstream.attach(service, instanceId, link);
      return;
    }
    if (m.kind === 'ack') {
      deps.upstream.ack(who.service, who.instanceId, Number(m.ack?.batchId ?? 0));
    } else if (m.kind === 'reply') {
      onReply(who, m.reply ?? {}, deps).catch((err: unknown) =>
        log.warn({ err, service: who?.service }, 'a service reply could not be delivered'),
      );
    }
    return undefined;
  });
  const gone = (): void => {
    if (who !== null) deps.upstream.detach(who.service, who.instanceId, link);
  };
  call.on('end', () => {
    gone();
    call.end();
  });
  call.on('error', gone);
  call.on('cancelled', gone);
  call.on('close', gone);
}

async function onReply(
  who: { service: string; instanceId: string },
  r: NonNullable<InstanceMessageIn['reply']>,
  deps: UpstreamServiceDeps,
): Promise<void> {
  const userId = r.userId ?? '';
  // The identifier rule every other way in applies: an id no client can log in as is nobody's.
  const problem = identifierProblem(userId, deps.maxUserIdLength);
  if (problem !== null) {
    deps.logger.warn({ service: who.service, problem }, 'service reply without a valid user_id ignored');
    return;
  }
  await sendServiceReply(deps.replies, {
    service: who.service,
    instanceId: who.instanceId,
    userId,
    payload: r.payload ?? new Uint8Array(0),
    qos: r.qos === 1 ? 1 : 0,
    replyTo: r.replyTo ?? '',
  });
}
