/**
 * The gRPC upstream: service instances connected to this node over `Upstream.Connect`, a hash ring of
 * them per service, and batches in flight awaiting their BatchAck. Messages go to the instance owning
 * hash(user id) on the ring, so one user's messages keep landing on one instance; when an instance's
 * stream ends, or it does not ack within `ackTimeoutMs`, the messages of its open batches come back as
 * "not taken" and the dispatcher retries them, by then on the ring without the dead instance
 * (failover). A late ack is ignored: at-least-once means an instance may see a message twice.
 */
import type { Logger } from '../observability/logger.js';
import type { GatewayMessageOut } from './grpc-proto.js';
import { HashRing } from './hash-ring.js';
import type { UpstreamMessage, UpstreamTransport } from './upstream-transport.js';

/** The writable end of one instance's stream (the grpc-js call, or a fake in tests). */
export interface InstanceLink {
  write(msg: GatewayMessageOut): void;
  /** Ends the stream from our side (replaced by a newer connection of the same instance). */
  end(): void;
}

interface OpenBatch {
  readonly messages: UpstreamMessage[];
  readonly done: (notTaken: UpstreamMessage[]) => void;
  readonly timer: NodeJS.Timeout;
}

interface Instance {
  readonly id: string;
  readonly link: InstanceLink;
  readonly open: Map<number, OpenBatch>;
  readonly connectedMs: number;
  sent: number;
}

/** Per-service state. */
interface ServiceInstances {
  readonly ring: HashRing;
  readonly byId: Map<string, Instance>;
}

export class GrpcUpstream implements UpstreamTransport {
  readonly kind = 'grpc' as const;
  private readonly services = new Map<string, ServiceInstances>();
  private ackTimeoutMs: number;
  private nextBatchId = 1;
  private readonly log: Logger;
  private readonly onInstances: (service: string, count: number) => void;

  constructor(opts: {
    ackTimeoutMs: number;
    logger: Logger;
    /** Told the instance count of a service whenever it changes (for the instances gauge). */
    onInstances?: (service: string, count: number) => void;
  }) {
    this.ackTimeoutMs = opts.ackTimeoutMs;
    this.log = opts.logger;
    this.onInstances = opts.onInstances ?? (() => undefined);
  }

  setAckTimeout(ms: number): void {
    this.ackTimeoutMs = ms;
  }

  /** Connected instance ids of a service, in join order. */
  instancesOf(service: string): string[] {
    return this.services.get(service)?.ring.list() ?? [];
  }

  /** The instance a user's messages go to now, or undefined when none is connected. */
  placement(service: string, userId: string): string | undefined {
    return this.services.get(service)?.ring.lookup(userId);
  }

  /**
   * An instance said Hello. A second connection with the same instance id replaces the first (a
   * restarted instance reconnecting before its old stream timed out); the old one's batches fail over.
   */
  attach(service: string, instanceId: string, link: InstanceLink): void {
    let s = this.services.get(service);
    if (s === undefined) {
      s = { ring: new HashRing(), byId: new Map() };
      this.services.set(service, s);
    }
    const old = s.byId.get(instanceId);
    if (old !== undefined) {
      this.detach(service, instanceId, old.link);
      old.link.end();
    }
    s.byId.set(instanceId, { id: instanceId, link, open: new Map(), connectedMs: Date.now(), sent: 0 });
    s.ring.add(instanceId);
    this.log.info({ service, instanceId, instances: s.ring.size }, 'upstream instance connected');
    this.onInstances(service, s.ring.size);
  }

  /** The instance's stream ended (or it was replaced): its open batches come back as not taken. */
  detach(service: string, instanceId: string, link: InstanceLink): void {
    const s = this.services.get(service);
    const inst = s?.byId.get(instanceId);
    if (s === undefined || inst === undefined || inst.link !== link) return;
    s.byId.delete(instanceId);
    s.ring.remove(instanceId);
    for (const [id, b] of inst.open) {
      inst.open.delete(id);
      clearTimeout(b.timer);
      b.done(b.messages);
    }
    this.log.warn({ service, instanceId, instances: s.ring.size }, 'upstream instance disconnected');
    this.onInstances(service, s.ring.size);
  }

  /** A BatchAck: the batch's messages are the instance's now. Unknown or late ids are ignored. */
  ack(service: string, instanceId: string, batchId: number): void {
    const inst = this.services.get(service)?.byId.get(instanceId);
    const b = inst?.open.get(batchId);
    if (inst === undefined || b === undefined) return;
    inst.open.delete(batchId);
    clearTimeout(b.timer);
    b.done([]);
  }

  send(service: string, batch: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    const s = this.services.get(service);
    if (s === undefined || s.ring.size === 0) return Promise.resolve(batch);
    const groups = new Map<string, UpstreamMessage[]>();
    for (const m of batch) {
      const owner = s.ring.lookup(m.userId)!;
      const g = groups.get(owner);
      if (g === undefined) groups.set(owner, [m]);
      else g.push(m);
    }
    const parts = [...groups].map(([id, msgs]) => this.sendTo(service, s.byId.get(id)!, msgs));
    return Promise.all(parts).then((r) => r.flat());
  }

  describe(service: string): Record<string, unknown> {
    const s = this.services.get(service);
    const instances = [...(s?.byId.values() ?? [])].map((i) => ({
      id: i.id,
      openBatches: i.open.size,
      sent: i.sent,
      connectedMs: i.connectedMs,
    }));
    return { instances };
  }

  async close(): Promise<void> {
    for (const [service, s] of this.services)
      for (const inst of [...s.byId.values()]) {
        this.detach(service, inst.id, inst.link);
        inst.link.end();
      }
  }

  private sendTo(service: string, inst: Instance, messages: UpstreamMessage[]): Promise<UpstreamMessage[]> {
    return new Promise((resolve) => {
      const batchId = this.nextBatchId++;
      const timer = setTimeout(() => {
        if (inst.open.delete(batchId)) {
          this.log.warn({ service, instanceId: inst.id, batchId }, 'upstream instance did not ack in time');
          resolve(messages);
        }
      }, this.ackTimeoutMs);
      inst.open.set(batchId, { messages, done: resolve, timer });
      inst.sent += messages.length;
      try {
        inst.link.write({ batch: { batchId, messages: messages.map(toWire) } });
      } catch (err) {
        this.log.warn({ err, service, instanceId: inst.id }, 'writing to an upstream instance failed');
        this.detach(service, inst.id, inst.link);
      }
    });
  }
}

function toWire(m: UpstreamMessage): NonNullable<GatewayMessageOut['batch']>['messages'][number] {
  return {
    msgId: m.msgId,
    userId: m.userId,
    deviceId: m.deviceId,
    sessionId: m.sessionId,
    nodeId: m.nodeId,
    type: m.type,
    payload: m.payload,
    priority: m.priority,
    timestampMs: m.timestampMs,
    attempt: m.attempt,
  };
}
