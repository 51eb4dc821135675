/**
 * The gRPC server of the access gateway: AccessGateway (every call authenticated by CallerAuth before
 * its body is decoded: deferred-decoding.ts), grpc.health.v1 and server reflection (v1 and v1alpha;
 * both without a key, and all five services resolvable through reflection, so grpcurl,
 * grpc_health_probe and load balancers work without .proto files), message size limits, keepalive, and optional TLS / mTLS.
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { AnyDefinition, PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Presence } from '../bus/presence.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AccessService, Caller } from './access-service.js';
import { Admission } from '../transport/admission.js';
import { CallerAuth } from './caller-auth.js';
import { deferDecoding, type DeferredDecoding } from './deferred-decoding.js';
import { GrpcListener } from './grpc-listener.js';
import { parseFilter, runPresenceStream } from './presence-stream.js';
import { ACCESS_SERVICE_NAME, accessPackageDefinition, accessServiceDefinition } from './proto.js';
import { standardPackageDefinition } from './standard-protos.js';
import { toServiceError } from './status-mapping.js';

/** How the server listens and whom it lets in. */
export interface AccessServerOptions {
  host: string;
  port: number;
  /** TLS on the gRPC port; `clientCa` set = client certificates required (mTLS). */
  tls: { cert: string; key: string; clientCa: string } | null;
  apiKeys: Record<string, string>;
  maxMessageBytes: number;
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  /** A socket without a call for this long is closed with GOAWAY (`grpc.max_connection_idle_ms`). */
  idleTimeoutMs?: number;
  /** Admits every socket at accept (the node's shared admission); absent = no caps, 10 s to the first call. */
  admission?: Admission;
  maxUserIdLength: number;
  presence: Presence;
  logger: Logger;
  /** Counts refused calls (`ferry_grpc_refused_total`); absent = not counted. */
  metrics?: Metrics;
}

type UnaryMethod = 'login' | 'logout' | 'refreshToken' | 'heartbeat' | 'getPresence' | 'listSessions';
type UnaryMethod2 = 'push' | 'broadcast' | 'kick' | 'stats' | 'validateToken' | 'issueSubscriptionToken';
const UNARY: Record<string, UnaryMethod | UnaryMethod2> = {
  Login: 'login',
  Logout: 'logout',
  RefreshToken: 'refreshToken',
  Heartbeat: 'heartbeat',
  GetPresence: 'getPresence',
  ListSessions: 'listSessions',
  Push: 'push',
  Broadcast: 'broadcast',
  Kick: 'kick',
  Stats: 'stats',
  ValidateToken: 'validateToken',
  IssueSubscriptionToken: 'issueSubscriptionToken',
};

/** A running access gateway server. */
export class AccessServer {
  private readonly server: grpc.Server;
  private readonly health = new HealthImplementation({ '': 'SERVING', [ACCESS_SERVICE_NAME]: 'SERVING' });
  private readonly auth: CallerAuth;
  /** AccessGateway as served: request bodies arrive as bytes and are decoded after the key check. */
  private readonly decoding: DeferredDecoding = deferDecoding(accessServiceDefinition());
  private readonly streams = new Set<() => void>();
  /** Services added besides AccessGateway, for reflection. */
  private readonly extraServices: grpc.ServiceDefinition[] = [];
  private readonly listener: GrpcListener;
  private listening = false;
  private closed = false;

  constructor(
    private readonly service: AccessService,
    private readonly opts: AccessServerOptions,
  ) {
    this.auth = new CallerAuth(opts.apiKeys);
    this.listener = new GrpcListener({
      host: opts.host,
      port: opts.port,
      secure: opts.tls !== null,
      admission: opts.admission ?? new Admission(),
      logger: opts.logger,
    });
    this.server = new grpc.Server({
      interceptors: [this.listener.interceptor],
      ...(opts.idleTimeoutMs !== undefined ? { 'grpc.max_connection_idle_ms': opts.idleTimeoutMs } : {}),
      'grpc.max_receive_message_length': opts.maxMessageBytes,
      'grpc.max_send_message_length': opts.maxMessageBytes,
      'grpc.keepalive_time_ms': opts.keepaliveMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.server.addService(this.decoding.definition, this.handlers());
    this.health.addToServer(this.server);
  }

  /**
   * Binds `host:port` (0 = any free port); resolves with the bound address. Reflection is added here,
   * built from every service added so far: it indexes its descriptors once, when it is created.
   * Sockets are accepted by the admission-aware GrpcListener and injected into grpc-js.
   */
  async listen(): Promise<{ host: string; port: number }> {
    this.listening = true;
    new ReflectionService(reflectedPackages(this.extraServices)).addToServer(this.server);
    const injector = this.server.createConnectionInjector(await this.credentials());
    const bound = await this.listener.listen(injector);
    return { host: this.opts.host, port: bound.port };
  }

  /**
   * Adds another service on this port (the business-service `Upstream`, docs/upstreams.md). Only before listen():
   * a service added later would be served but missing from server reflection.
   */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    if (this.listening) throw new Error('AccessServer.addService must be called before listen()');
    this.server.addService(definition, implementation);
    this.extraServices.push(definition);
  }

  /**
   * Counts one refused call of a service on this port (`method` like "AccessGateway/Push"), by its
   * gRPC status name. Services added with addService report theirs here too.
   */
  countRefused(method: string, code: grpc.status): void {
    this.opts.metrics?.grpcRefused.inc({ method, code: grpc.status[code] ?? String(code) });
  }

  /** Health turns NOT_SERVING (drain): load balancers stop sending new calls. */
  setNotServing(): void {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(ACCESS_SERVICE_NAME, 'NOT_SERVING');
  }

  /** Ends presence streams, lets unary calls finish (up to `graceMs`), then closes. Idempotent. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setNotServing();
    this.listener.stopAccepting();
    for (const stop of [...this.streams]) stop();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Sockets grpc-js never made a session of (still in their TLS handshake) are ours to close.
    await this.listener.close();
  }

  private async credentials(): Promise<grpc.ServerCredentials> {
    const tls = this.opts.tls;
    if (tls === null) return grpc.ServerCredentials.createInsecure();
    const [cert, key, ca] = await Promise.all([
      readFile(tls.cert),
      readFile(tls.key),
      tls.clientCa === '' ? null : readFile(tls.clientCa),
    ]);
    return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [rpc, method] of Object.entries(UNARY)) out[rpc] = this.unary(rpc, method);
    out.WatchPresence = (call: grpc.ServerWritableStream<Buffer, unknown>) => this.watchPresence(call);
    return out;
  }

  private unary(rpc: string, method: UnaryMethod | UnaryMethod2): grpc.handleUnaryCall<Buffer, unknown> {
    const log = this.opts.logger;
    return (call, callback) => {
      this.service.count(rpc);
      let caller: Caller;
      let request: Record<string, unknown>;
      try {
        // The key first: a caller without one learns nothing, not even whether its body parses.
        caller = this.auth.identify(call);
        request = this.decoding.decode(rpc, call.request);
      } catch (err) {
        const e = toServiceError(err);
        this.countRefused(`AccessGateway/${rpc}`, e.code ?? grpc.status.INTERNAL);
        callback(e);
        return;
      }
      // grpc-js answers DEADLINE_EXCEEDED itself when the deadline passes; a call already past it when it
      // gets here (queued behind others) is not started, so no side effect happens after the caller gave up.
      if (call.cancelled || deadlinePassed(call.getDeadline())) {
        callback({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline passed before the call started' });
        return;
      }
      this.service[method](caller, request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = toServiceError(err);
          this.countRefused(`AccessGateway/${rpc}`, e.code ?? grpc.status.INTERNAL);
          if (e.code === grpc.status.INTERNAL) log.error({ err, rpc }, 'access call failed');
          else log.debug({ rpc, code: e.code, details: e.details }, 'access call refused');
          callback(e);
        },
      );
    };
  }

  private watchPresence(call: grpc.ServerWritableStream<Buffer, unknown>): void {
    this.service.count('WatchPresence');
    try {
      this.auth.identify(call);
      const request = this.decoding.decode('WatchPresence', call.request);
      const filter = parseFilter(request, this.opts.maxUserIdLength);
      const stop = runPresenceStream(call, filter, this.opts.presence, this.service);
      this.streams.add(stop);
      const forget = (): boolean => this.streams.delete(stop);
      call.on('cancelled', forget);
      call.on('close', forget);
    } catch (err) {
      const e = toServiceError(err);
      this.countRefused('AccessGateway/WatchPresence', e.code ?? grpc.status.INTERNAL);
      call.emit('error', e);
    }
  }
}

/**
 * What reflection indexes: every service this port serves. The AccessGateway package, Health and
 * reflection itself (standard-protos.ts), plus the file descriptors of every added service
 * (proto-loader puts them on each method's message types; reflection reads only `fileDescriptorProtos`
 * and de-duplicates files by name).
 */
function reflectedPackages(services: grpc.ServiceDefinition[]): PackageDefinition {
  const out: PackageDefinition = { ...standardPackageDefinition(), ...accessPackageDefinition() };
  services.forEach((service, i) => {
    Object.values(service).forEach((method, j) => {
      const m = method as { requestType?: AnyDefinition; responseType?: AnyDefinition };
      if (m.requestType !== undefined) out[`$extra.${i}.${j}.req`] = m.requestType;
      if (m.responseType !== undefined) out[`$extra.${i}.${j}.res`] = m.responseType;
    });
  });
  return out;
}

function deadlinePassed(deadline: grpc.Deadline): boolean {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms > 0 && ms <= Date.now();
}
