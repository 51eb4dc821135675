/**
 * Where node samples live for HISTORY_MS: in this process on a single node, in Redis in a cluster
 * (each node's list `<prefix>:{node:<id>}:console`, newest first, plus the registry
 * `<prefix>:{cluster}:console-nodes` of node ids scored by their newest sample's time), so any node's
 * console and gRPC Stats show every node.
 */
import type { RedisLink } from '../cluster/redis-link.js';
import {
  HISTORY_MS,
  HISTORY_SAMPLES,
  SAMPLE_INTERVAL_MS,
  STALE_AFTER_MS,
  type NodeSample,
} from './node-sample.js';

/** One node's samples after some time, and its newest sample whatever its age. */
export interface NodeSeries {
  nodeId: string;
  /** Samples taken after `sinceMs`, oldest first. */
  samples: NodeSample[];
  latest: NodeSample;
  /** Its newest sample is older than STALE_AFTER_MS: the node stopped or lost Redis. */
  down: boolean;
}

/** Stores this node's samples and reads every node's. */
export interface SampleStore {
  put(sample: NodeSample): Promise<void>;
  /** Every node with a sample in the last HISTORY_MS, sorted by node id. */
  read(sinceMs: number, nowMs?: number): Promise<NodeSeries[]>;
}

/** Single node: a ring of this node's own samples. */
export class MemorySampleStore implements SampleStore {
  private readonly samples: NodeSample[] = [];

  put(sample: NodeSample): Promise<void> {
    this.samples.push(sample);
    if (this.samples.length > HISTORY_SAMPLES) this.samples.shift();
    return Promise.resolve();
  }

  read(sinceMs: number, nowMs = Date.now()): Promise<NodeSeries[]> {
    const latest = this.samples[this.samples.length - 1];
    if (latest === undefined) return Promise.resolve([]);
    return Promise.resolve([
      {
        nodeId: latest.nodeId,
        samples: this.samples.filter((s) => s.t > sinceMs),
        latest,
        down: nowMs - latest.t > STALE_AFTER_MS,
      },
    ]);
  }
}

/** Cluster: samples in Redis, read back for every node. */
export class RedisSampleStore implements SampleStore {
  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {}

  /** The list of node `nodeId`'s samples (same hash tag as its inbox and liveness key). */
  listKey(nodeId: string): string {
    return `${this.prefix}:{node:${nodeId}}:console`;
  }

  /** Node ids scored by their newest sample's time. */
  registryKey(): string {
    return `${this.prefix}:{cluster}:console-nodes`;
  }

  async put(sample: NodeSample): Promise<void> {
    const key = this.listKey(sample.nodeId);
    const reg = this.registryKey();
    await Promise.all([
      this.link.call(key, ['LPUSH', key, JSON.stringify(sample)]),
      this.link.call(key, ['LTRIM', key, '0', String(HISTORY_SAMPLES - 1)]),
      this.link.call(key, ['PEXPIRE', key, String(HISTORY_MS)]),
      this.link.call(reg, ['ZADD', reg, String(sample.t), sample.nodeId]),
      this.link.call(reg, ['ZREMRANGEBYSCORE', reg, '-inf', `(${sample.t - HISTORY_MS}`]),
    ]);
  }

  async read(sinceMs: number, nowMs = Date.now()): Promise<NodeSeries[]> {
    const reg = this.registryKey();
    const ids = await this.link.call<string[]>(reg, [
      'ZRANGEBYSCORE',
      reg,
      String(nowMs - HISTORY_MS),
      '+inf',
    ]);
    // Samples are one interval apart: read only as many as can be newer than sinceMs (at least one).
    const wanted = Math.max(0, nowMs - sinceMs);
    const count = Math.min(HISTORY_SAMPLES, Math.ceil(wanted / SAMPLE_INTERVAL_MS) + 2);
    const lists = await Promise.all(
      ids.map((id) =>
        this.link.call<string[]>(this.listKey(id), ['LRANGE', this.listKey(id), '0', String(count - 1)]),
      ),
    );
    const out: NodeSeries[] = [];
    ids.forEach((nodeId, i) => {
      const samples: NodeSample[] = [];
      for (const text of lists[i] ?? []) {
        try {
          samples.push(JSON.parse(text) as NodeSample);
        } catch {
          // Not ours (someone wrote to the key): skip it.
        }
      }
      const latest = samples[0];
      if (latest === undefined) return;
      out.push({
        nodeId,
        samples: samples.filter((s) => s.t > sinceMs).reverse(),
        latest,
        down: nowMs - latest.t > STALE_AFTER_MS,
      });
    });
    return out.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}
