/**
 * Prometheus metrics of business-service routing, registered on the gateway's registry (so they show
 * on /metrics beside the rest). Labelled by service; queue depth also by priority.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class UpstreamMetrics {
  readonly routed: Counter<'service'>;
  readonly failed: Counter<'service' | 'reason'>;
  readonly retried: Counter<'service'>;
  readonly duplicates: Counter<'service'>;
  readonly queueDepth: Gauge<'service' | 'priority'>;
  readonly batchSize: Histogram<'service'>;
  readonly latency: Histogram<'service'>;
  readonly instances: Gauge<'service'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.routed = new Counter({
      name: 'ferry_upstream_routed_total',
      help: 'Service messages taken by their upstream, by service',
      labelNames: ['service'],
      registers,
    });
    this.failed = new Counter({
      name: 'ferry_upstream_failed_total',
      help: 'Service messages refused to the client, by service and reason (busy, unavailable, no_route)',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.retried = new Counter({
      name: 'ferry_upstream_retried_total',
      help: 'Delivery attempts to an upstream repeated after a failure, by service',
      labelNames: ['service'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'ferry_upstream_duplicates_total',
      help: 'Service messages answered as duplicates (msg id seen within the dedup window), by service',
      labelNames: ['service'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'ferry_upstream_queue_depth',
      help: 'Service messages waiting in the gateway, by service and priority',
      labelNames: ['service', 'priority'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'ferry_upstream_batch_size',
      help: 'Messages per batch handed to an upstream, by service',
      labelNames: ['service'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    this.latency = new Histogram({
      name: 'ferry_upstream_latency_seconds',
      help: 'From acceptance by the gateway to acceptance by the upstream, by service',
      labelNames: ['service'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.instances = new Gauge({
      name: 'ferry_upstream_instances',
      help: 'gRPC service instances connected to this node, by service',
      labelNames: ['service'],
      registers,
    });
  }
}
