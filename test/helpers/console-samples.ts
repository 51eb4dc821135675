/**
 * Waits for a node's next console sample (src/console) without polling: Redis keyspace notifications
 * announce every LPUSH to a node's sample list, so a test can say "after the next sample of node X"
 * and then compare figures taken after its own actions.
 */
import { createClient } from 'redis';
import type { NodeSample } from '../../src/console/index.js';

/** What the watch needs of its two connections. */
interface Conn {
  quit(): Promise<unknown>;
}
interface Cmd extends Conn {
  lIndex(key: string, index: number): Promise<string | null>;
}

/** Announces new samples of any node under one key prefix. */
export class SampleWatch {
  private waiters: { nodeId: string; after: number; resolve: (s: NodeSample) => void }[] = [];

  private constructor(
    private readonly cmd: Cmd,
    private readonly sub: Conn,
    private readonly prefix: string,
  ) {}

  /** Subscribes to the sample lists' notifications on the Redis at `url`. */
  static async start(url: string, prefix = 'ferry'): Promise<SampleWatch> {
    const cmd = createClient({ url });
    cmd.on('error', () => undefined);
    await cmd.connect();
    // K: keyspace channel, l: list commands (LPUSH).
    await cmd.configSet('notify-keyspace-events', 'Kl');
    const sub = cmd.duplicate();
    sub.on('error', () => undefined);
    await sub.connect();
    const w = new SampleWatch(cmd, sub, prefix);
    await sub.pSubscribe(`__keyspace@0__:${prefix}:{node:*}:console`, (event, channel) => {
      if (event !== 'lpush') return;
      const m = /\{node:(.*)\}:console$/.exec(channel);
      if (m !== null) void w.onPush(m[1]!);
    });
    return w;
  }

  /** The first sample of `nodeId` taken at or after `afterMs` (default: now) that reaches Redis. */
  next(nodeId: string, afterMs = Date.now()): Promise<NodeSample> {
    return new Promise((resolve) => this.waiters.push({ nodeId, after: afterMs, resolve }));
  }

  private async onPush(nodeId: string): Promise<void> {
    const text = await this.cmd.lIndex(`${this.prefix}:{node:${nodeId}}:console`, 0);
    if (text === null) return;
    const sample = JSON.parse(text) as NodeSample;
    this.waiters = this.waiters.filter((w) => {
      if (w.nodeId !== nodeId || sample.t < w.after) return true;
      w.resolve(sample);
      return false;
    });
  }

  async close(): Promise<void> {
    await this.sub.quit().catch(() => undefined);
    await this.cmd.quit().catch(() => undefined);
  }
}
