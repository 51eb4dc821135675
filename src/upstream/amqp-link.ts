/**
 * One node's connection to the RabbitMQ broker of its `amqp` services: connects, keeps one confirm
 * channel for publishing, reconnects with exponential backoff and jitter whenever the connection or
 * the channel closes, and tracks the broker's flow control (`connection.blocked` during a memory or
 * disk alarm). Users register `onUp` hooks that run on every (re)connect, before the link counts as
 * up: the upstream declares its queues there, the reply consumer opens its channel.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../observability/logger.js';

/** Called on every new connection; a throw closes it and a reconnect follows. */
export type LinkUpHook = (model: ChannelModel, publish: ConfirmChannel) => Promise<void>;

/** What the upstream and the reply consumer need of a link (tests pass a fake). */
export interface BrokerLink {
  readonly channel: ConfirmChannel | null;
  readonly blocked: boolean;
  onUp(hook: LinkUpHook): void;
  stats(): AmqpLinkStats;
  close(): Promise<void>;
}

export interface AmqpLinkOptions {
  url: string;
  logger: Logger;
  /** Reconnect backoff: base doubling to max, plus up to 25% jitter. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

/** Connection state for /stats. */
export interface AmqpLinkStats {
  connected: boolean;
  blocked: boolean;
  connects: number;
  disconnects: number;
}

export class AmqpLink implements BrokerLink {
  /** The confirm channel while connected and set up; null otherwise. */
  channel: ConfirmChannel | null = null;
  /** True while the broker has blocked this connection (it reads nothing we publish). */
  blocked = false;
  private readonly url: string;
  private readonly log: Logger;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly hooks: LinkUpHook[] = [];
  private readonly upWaiters = new Set<() => void>();
  private model: ChannelModel | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private connecting = false;
  private connects = 0;
  private disconnects = 0;

  constructor(opts: AmqpLinkOptions) {
    this.url = opts.url;
    this.log = opts.logger;
    this.baseMs = opts.reconnectBaseMs ?? 100;
    this.maxMs = opts.reconnectMaxMs ?? 5000;
  }

  /** Adds a hook; it also runs at once when the link is already up. */
  onUp(hook: LinkUpHook): void {
    this.hooks.push(hook);
    if (this.model !== null && this.channel !== null)
      hook(this.model, this.channel).catch((err: unknown) => this.drop(err));
  }

  /** Starts connecting (in the background: a broker that is down now is retried with backoff). */
  start(): void {
    if (this.closed || this.connecting || this.model !== null) return;
    this.connecting = true;
    void this.connect();
  }

  /** Resolves once the link is up, or after `ms` (false) - for start-up, never for message paths. */
  whenUp(ms: number): Promise<boolean> {
    if (this.channel !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.upWaiters.delete(done);
        resolve(this.channel !== null);
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.upWaiters.add(done);
    });
  }

  stats(): AmqpLinkStats {
    return {
      connected: this.channel !== null,
      blocked: this.blocked,
      connects: this.connects,
      disconnects: this.disconnects,
    };
  }

  /** Closes the connection and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const model = this.model;
    this.model = null;
    this.channel = null;
    for (const w of [...this.upWaiters]) w();
    await model?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    let model: ChannelModel | null = null;
    try {
      model = await amqp.connect(this.url, { clientProperties: { connection_name: 'ferry-gateway' } });
      if (this.closed) {
        await model.close().catch(() => undefined);
        return;
      }
      model.on('error', (err: unknown) => this.log.warn({ err: String(err) }, 'AMQP connection error'));
      model.on('close', () => this.lost(model!));
      model.on('blocked', (reason: string) => {
        this.blocked = true;
        this.log.warn({ reason }, 'the AMQP broker blocked publishing (flow control)');
      });
      model.on('unblocked', () => {
        this.blocked = false;
        this.log.info('the AMQP broker unblocked publishing');
      });
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: unknown) => this.log.warn({ err: String(err) }, 'AMQP channel error'));
      // A closed channel is as good as a lost connection: start over on a fresh one.
      ch.on('close', () => this.drop(new Error('AMQP publish channel closed')));
      this.model = model;
      for (const hook of this.hooks) await hook(model, ch);
      this.channel = ch;
      this.blocked = false;
      this.failures = 0;
      this.connects++;
      this.log.info({ connects: this.connects }, 'connected to the AMQP broker');
      for (const w of [...this.upWaiters]) w();
    } catch (err) {
      this.failures++;
      this.log.warn({ err: String(err), failures: this.failures }, 'AMQP connect failed; retrying');
      this.model = null;
      this.channel = null;
      await model?.close().catch(() => undefined);
      this.schedule();
    } finally {
      this.connecting = false;
    }
  }

  /** The connection of `model` ended (broker gone, closed by us, or dropped after an error). */
  private lost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = null;
    const wasUp = this.channel !== null;
    this.channel = null;
    this.blocked = false;
    if (wasUp) this.disconnects++;
    if (this.closed) return;
    this.log.warn('lost the AMQP broker connection; reconnecting');
    this.schedule();
  }

  /** Closes the current connection after a channel failure; `lost` reconnects. */
  private drop(err: unknown): void {
    const model = this.model;
    if (model === null || this.closed) return;
    this.log.warn({ err: String(err) }, 'restarting the AMQP connection');
    model.close().catch(() => this.lost(model));
  }

  private schedule(): void {
    if (this.closed || this.timer !== null) return;
    const d = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 20));
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.start();
      },
      Math.round(d + Math.random() * d * 0.25),
    );
    this.timer.unref();
  }
}
