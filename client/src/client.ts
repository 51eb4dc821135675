/**
 * The client state machine: idle -> connecting -> open -> (reconnecting -> connecting -> open)* ->
 * closed. One connection at a time; QoS-1 sends wait in the outbox until their SendAck and are sent
 * again on every new connection with the same `client_msg_id` (the server deduplicates), so they
 * survive reconnects, transport changes and node changes. Deliveries resume from the last processed
 * seq (docs/protocol.md §5.4).
 */
import { Backoff } from './backoff.js';
import { FerryClientError } from './errors.js';
import { TypedEmitter } from './events.js';
import { Inbox, type Message } from './inbox.js';
import { resolveOptions, transportOfUrl, type ConnectOptions, type ResolvedOptions } from './options.js';
import { Outbox, type OutgoingBody, type SendOptions, type SendResult } from './outbox.js';
import { adviseReconnect, type ConnectionEnd } from './reconnect-advice.js';
import { PendingRequests } from './requests.js';
import { defaultStorage, TransportMemory } from './transport-memory.js';
import type { ClientTransport, TransportFactory, TransportKind } from './transports/transport.js';
import type { Frame, FrameInit } from './wire.js';

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Facts about the open connection (from AuthResult). */
export interface OpenInfo {
  transport: TransportKind;
  url: string;
  userId: string;
  deviceId: string;
  sessionId: string;
  nodeId: string;
  heartbeatMs: number;
  maxFrameBytes: number;
  /** The server's resume point: QoS-1 user messages after it follow. */
  ackedSeq: number;
  /** Token expiry (Unix ms, 0 = none). */
  expiresAtMs: number;
}

/** A connection ended. `willReconnect` says whether the client tries again, after `delayMs`. */
export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
  delayMs: number;
  transport: TransportKind | null;
}

/** Presence of one user (docs/protocol.md §5.7). */
export interface UserPresence {
  userId: string;
  online: boolean;
  devices: { deviceId: string; transport: string; nodeId: string; sinceMs: number }[];
}

/** Every event a client emits, with its value type. */
export interface ClientEvents {
  state: { state: ClientState; previous: ClientState };
  open: OpenInfo;
  message: Message;
  /** A Send or Publish was accepted by the server (QoS 1: stored). */
  ack: SendResult;
  presence: UserPresence[];
  disconnect: DisconnectInfo;
  /** One transport attempt: which, and whether it opened (fallbacks are visible here). */
  transport: { kind: TransportKind; url: string; ok: boolean; error?: string };
  error: FerryClientError;
}

/** The transports an entry point (browser, Node) can open. */
export type TransportFactories = Partial<Record<TransportKind, TransportFactory>>;

/** One transport connection and what happened on it. */
interface Connection {
  transport: ClientTransport | null;
  kind: TransportKind;
  authed: boolean;
  disconnect?: ConnectionEnd['disconnect'];
  heartbeatTimeout: boolean;
  lastRxMs: number;
  ended: Promise<ConnectionEnd>;
  end(e: ConnectionEnd): void;
}

export class FerryClient extends TypedEmitter<ClientEvents> {
  private readonly opts: ResolvedOptions;
  private readonly backoff: Backoff;
  private readonly memory: TransportMemory;
  private readonly requests = new PendingRequests();
  private readonly outbox: Outbox;
  private readonly inbox: Inbox;
  /** Topics to (re)subscribe on every connection. */
  private readonly topics = new Set<string>();
  private stateValue: ClientState = 'idle';
  private conn: Connection | null = null;
  private info: OpenInfo | null = null;
  private token: string | undefined;
  private tokenStale = false;
  private refreshing = false;
  private closing = false;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private openWaiters: { resolve(): void; reject(err: Error): void }[] = [];

  constructor(
    private readonly options: ConnectOptions,
    private readonly factories: TransportFactories,
    defaultOrder: TransportKind[],
  ) {
    super();
    this.opts = resolveOptions(
      options,
      defaultOrder.filter((k) => factories[k] !== undefined),
    );
    this.backoff = new Backoff(options.backoff);
    const e = this.opts.endpoints;
    this.memory = new TransportMemory(
      options.storage ?? defaultStorage(),
      `ferry:transport:${e.wt ?? ''}|${e.ws ?? ''}|${e.tcp ?? ''}`,
      this.opts.rememberFallbackMs,
    );
    this.token = options.token;
    this.inbox = new Inbox(this.opts.lastSeq, this.opts.ackDelayMs, (seq) => this.write({ ack: { seq } }));
    this.outbox = new Outbox(this.requests, {
      write: (frame) => this.write(frame),
      isOpen: () => this.conn?.authed === true,
      timeoutMs: this.opts.requestTimeoutMs,
      onAck: (r) => this.emit('ack', r),
      setTimer: (fn, ms) => this.timer(fn, ms),
    });
    this.onListenerAdded = (event) => {
      if (event === 'message') queueMicrotask(() => this.flushHeld());
    };
    this.onListenerError = (err) => {
      if (
        this.listenerCount('error') > 0 &&
        !(err instanceof FerryClientError && err.code === 'FERRY_CLIENT_PROTOCOL')
      )
        this.emit(
          'error',
          new FerryClientError('FERRY_CLIENT_BAD_ARGUMENT', `listener threw: ${String(err)}`, { cause: err }),
        );
      else console.error(err);
    };
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** The open connection's facts, or null while not connected. */
  get connection(): OpenInfo | null {
    return this.stateValue === 'open' ? this.info : null;
  }

  /** The highest QoS-1 user seq processed: persist it and pass it as `lastSeq` to resume a new client. */
  get lastSeq(): number {
    return this.inbox.processedSeq;
  }

  /** QoS-1 messages sent but not yet acknowledged by the server. */
  get pendingCount(): number {
    return this.outbox.size;
  }

  /** Starts connecting (once); resolves when a connection is open, rejects if the client stops first. */
  start(): Promise<void> {
    if (this.stateValue === 'idle') this.loopDone = this.loop();
    return this.whenOpen();
  }

  /** Resolves at the next (or current) open connection; rejects when the client closes first. */
  whenOpen(): Promise<void> {
    if (this.stateValue === 'open') return Promise.resolve();
    if (this.stateValue === 'closed') return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /**
   * Sends `payload` to every device of user `to`. QoS 1 (the default) resolves once the server stored
   * it, retrying across reconnects with the same `clientMsgId`; QoS 0 needs an open connection.
   */
  send(to: string, payload: Uint8Array | string, opts: SendOptions = {}): Promise<SendResult> {
    return this.outgoing({ kind: 'send', target: to }, payload, opts);
  }

  /** Publishes to a topic's subscribers (docs/protocol.md §5.5); the same QoS rules as `send`. */
  publish(topic: string, payload: Uint8Array | string, opts: SendOptions = {}): Promise<SendResult> {
    return this.outgoing({ kind: 'publish', target: topic }, payload, opts);
  }

  /**
   * Subscribes to `topic`, now and after every reconnect (then with `since_seq` = the highest offset
   * received, so retained QoS-1 topic messages missed meanwhile are replayed). Resolves with the
   * topic's current offset once the server confirmed.
   */
  async subscribe(topic: string, opts: { sinceSeq?: number } = {}): Promise<{ topicSeq: number }> {
    this.topics.add(topic);
    if (!this.inbox.topicOffsets.has(topic) || opts.sinceSeq !== undefined)
      this.inbox.topicOffsets.set(topic, opts.sinceSeq ?? 0);
    if (this.conn?.authed !== true) await this.whenOpen();
    return this.subscribeNow(topic);
  }

  /** Leaves `topic` (no more resubscribing). */
  async unsubscribe(topic: string): Promise<void> {
    this.topics.delete(topic);
    this.inbox.topicOffsets.delete(topic);
    if (this.conn?.authed === true) await this.request({ unsubscribe: { topic } });
  }

  /** Asks which of `userIds` (1-100) are online, on which devices and nodes. */
  async presence(userIds: string[]): Promise<UserPresence[]> {
    const reply = await this.request({ presenceQuery: { userIds } });
    const users = (reply.presenceResult?.users ?? []).map((u) => ({
      userId: u.userId ?? '',
      online: u.online === true,
      devices: (u.devices ?? []).map((d) => ({
        deviceId: d.deviceId ?? '',
        transport: d.transport ?? '',
        nodeId: d.nodeId ?? '',
        sinceMs: Number(d.sinceMs ?? 0),
      })),
    }));
    this.emit('presence', users);
    return users;
  }

  /** Measures one round trip to the node, in ms. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.request({ ping: { timestampMs: started } });
    return Date.now() - started;
  }

  /**
   * Closes for good: unacknowledged QoS-1 sends are rejected (FERRY_CLIENT_CLOSED; send them again
   * from a new client, with the same clientMsgId, to keep exactly-once storage), pending acks are
   * flushed and the server is told `Disconnect 4000`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closing) return this.loopDone;
    this.closing = true;
    const conn = this.conn;
    if (conn?.transport) {
      this.inbox.flush();
      conn.transport.send({ disconnect: { code: 4000, reason: 'client closed' } });
      conn.transport.close(4000, 'client closed');
    }
    conn?.end({ closeCode: 4000, closeReason: 'client closed' });
    this.wake?.();
    if (this.stateValue === 'idle') this.finish(this.closedError());
    await this.loopDone;
  }

  // -- connection loop ------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (!this.closing) {
      this.setState('connecting');
      let end: ConnectionEnd;
      try {
        end = await this.runConnection();
      } catch (err) {
        const e =
          err instanceof FerryClientError
            ? err
            : new FerryClientError('FERRY_CLIENT_NO_TRANSPORT', String(err), { cause: err });
        this.emitError(e);
        end = { closeCode: 0, closeReason: e.message };
      }
      const transport = this.conn?.transport?.kind ?? null;
      this.conn = null;
      this.requests.failAll(new FerryClientError('FERRY_CLIENT_DISCONNECTED', 'connection ended'));
      if (this.closing) break;
      const advice = adviseReconnect(end);
      if (advice.action === 'stop' || !this.opts.reconnect) {
        this.emit('disconnect', {
          code: advice.code,
          reason: advice.reason,
          willReconnect: false,
          delayMs: 0,
          transport,
        });
        this.finish(
          new FerryClientError('FERRY_CLIENT_CLOSED', `stopped: ${advice.code} ${advice.reason}`, {
            disconnectCode: advice.code,
          }),
        );
        return;
      }
      if (advice.refreshToken) this.tokenStale = true;
      if (advice.url !== '') this.redirect(advice.url);
      const delayMs = this.refreshing ? 0 : this.backoff.next(advice.minDelayMs);
      this.refreshing = false;
      this.emit('disconnect', {
        code: advice.code,
        reason: advice.reason,
        willReconnect: true,
        delayMs,
        transport,
      });
      this.setState('reconnecting');
      await this.sleep(delayMs);
    }
    this.finish(this.closedError());
  }

  /** One connection from transport choice to its end; resolves with how it ended. */
  private async runConnection(): Promise<ConnectionEnd> {
    const token = await this.currentToken();
    const conn = this.newConnection();
    this.conn = conn;
    const transport = await this.openTransport(conn);
    if (this.closing) {
      transport.close(4000, 'client closed');
      return conn.ended;
    }
    conn.transport = transport;
    conn.kind = transport.kind;
    const authId = this.requests.allocate();
    transport.send({
      id: authId,
      authenticate: {
        token,
        deviceId: this.opts.deviceId,
        lastSeq: this.inbox.processedSeq,
        client: this.opts.clientName,
      },
    });
    const authTimer = this.timer(() => {
      if (conn.authed) return;
      transport.close(4000, 'no AuthResult');
      conn.end({ closeCode: 0, closeReason: `no AuthResult within ${this.opts.authTimeoutMs} ms` });
    }, this.opts.authTimeoutMs);
    this.requests.wait(authId, 0).then(
      (frame) => {
        clearTimeout(authTimer);
        this.onAuthenticated(conn, frame);
      },
      () => clearTimeout(authTimer),
    );
    return conn.ended;
  }

  private newConnection(): Connection {
    let resolveEnd!: (e: ConnectionEnd) => void;
    const ended = new Promise<ConnectionEnd>((r) => (resolveEnd = r));
    let done = false;
    const conn: Connection = {
      transport: null,
      kind: this.opts.transports[0] ?? 'ws',
      authed: false,
      heartbeatTimeout: false,
      lastRxMs: Date.now(),
      ended,
      end: (e) => {
        if (done) return;
        done = true;
        conn.authed = false;
        resolveEnd({
          ...e,
          disconnect: conn.disconnect ?? e.disconnect,
          heartbeatTimeout: conn.heartbeatTimeout,
        });
      },
    };
    return conn;
  }

  /** Tries the transports in order (a remembered fallback first); throws FERRY_CLIENT_NO_TRANSPORT. */
  private async openTransport(conn: Connection): Promise<ClientTransport> {
    const preferred = this.opts.transports[0];
    const failures: Error[] = [];
    let preferredFailed = false;
    const events = {
      onFrame: (frame: Frame) => this.onFrame(conn, frame),
      onClose: (info: { code: number; reason: string; protocolError?: boolean }) => {
        if (info.protocolError === true)
          this.emitError(
            new FerryClientError(
              'FERRY_CLIENT_PROTOCOL',
              `unreadable frames from the server: ${info.reason}`,
            ),
          );
        conn.end({
          closeCode: info.code,
          closeReason: info.reason,
          protocolError: info.protocolError === true,
        });
      },
    };
    for (const kind of this.memory.order(this.opts.transports)) {
      if (this.closing) break;
      const url = this.opts.endpoints[kind];
      const factory = this.factories[kind];
      if (url === undefined || factory === undefined) continue;
      try {
        const certHashes = kind === 'wt' ? await this.certHashes() : [];
        const transport = await factory({ url, certHashes, timeoutMs: this.opts.transportTimeoutMs, events });
        this.emit('transport', { kind, url, ok: true });
        if (kind === preferred) this.memory.forget();
        else if (preferredFailed) this.memory.rememberFallback(kind);
        return transport;
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        failures.push(e);
        if (kind === preferred) preferredFailed = true;
        this.emit('transport', { kind, url, ok: false, error: e.message });
      }
    }
    throw new FerryClientError(
      this.closing ? 'FERRY_CLIENT_CLOSED' : 'FERRY_CLIENT_NO_TRANSPORT',
      `no transport could connect: ${failures.map((f) => f.message).join('; ') || 'none configured'}`,
      { cause: failures },
    );
  }

  private onAuthenticated(conn: Connection, frame: Frame): void {
    const r = frame.authResult;
    if (r === undefined || r === null || conn.transport === null || this.conn !== conn) return;
    conn.authed = true;
    const transport = conn.transport;
    const maxFrameBytes = r.maxFrameBytes ?? 0;
    transport.setMaxFrameBytes(maxFrameBytes);
    this.info = {
      transport: transport.kind,
      url: this.opts.endpoints[transport.kind] ?? '',
      userId: r.userId ?? '',
      deviceId: r.deviceId ?? '',
      sessionId: r.sessionId ?? '',
      nodeId: r.nodeId ?? '',
      heartbeatMs: r.heartbeatMs ?? 0,
      maxFrameBytes,
      ackedSeq: Number(r.ackedSeq ?? 0),
      expiresAtMs: Number(r.expiresAtMs ?? 0),
    };
    this.backoff.reset();
    this.inbox.resumed(this.info.ackedSeq);
    this.startHeartbeatWatch(conn, this.info.heartbeatMs);
    this.scheduleTokenRefresh(conn, this.info.expiresAtMs);
    this.setState('open');
    this.emit('open', this.info);
    for (const topic of this.topics) this.subscribeNow(topic).catch((err: unknown) => this.emitError(err));
    this.outbox.resendAll();
    for (const w of this.openWaiters.splice(0)) w.resolve();
  }

  // -- inbound frames ------------------------------------------------------------------------------

  private onFrame(conn: Connection, frame: Frame): void {
    if (this.conn !== conn) return;
    conn.lastRxMs = Date.now();
    switch (frame.body) {
      case 'deliver':
        if (conn.authed && frame.deliver) this.onDeliver(frame.deliver);
        return;
      case 'ping':
        conn.transport?.send({ id: frame.id, pong: { timestampMs: frame.ping?.timestampMs ?? 0 } });
        return;
      case 'disconnect': {
        const d = frame.disconnect;
        conn.disconnect = {
          code: d?.code ?? 0,
          reason: d?.reason ?? '',
          reconnect: d?.reconnect === true,
          reconnectDelayMs: d?.reconnectDelayMs ?? 0,
          reconnectUrl: d?.reconnectUrl ?? '',
        };
        return;
      }
      default:
        if (!this.requests.settle(frame) && frame.body === 'error')
          this.emitError(
            new FerryClientError(
              'FERRY_CLIENT_REQUEST_FAILED',
              `server error ${frame.error?.code}: ${frame.error?.message}`,
              {
                replyCode: frame.error?.code ?? 0,
              },
            ),
          );
    }
  }

  private onDeliver(d: NonNullable<Frame['deliver']>): void {
    const m = this.inbox.accept(d);
    if (m === null) return;
    if (this.listenerCount('message') === 0) this.inbox.hold(m);
    else this.dispatch(m);
  }

  private dispatch(m: Message): void {
    this.emit('message', m);
    this.inbox.processed(m);
  }

  private flushHeld(): void {
    if (this.listenerCount('message') === 0) return;
    for (const m of this.inbox.takeHeld()) this.dispatch(m);
  }

  // -- helpers --------------------------------------------------------------------------------------

  private outgoing(
    target: { kind: 'send' | 'publish'; target: string },
    payload: Uint8Array | string,
    opts: SendOptions,
  ): Promise<SendResult> {
    if (this.closing || this.stateValue === 'closed') return Promise.reject(this.closedError());
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    if (!(bytes instanceof Uint8Array))
      return Promise.reject(
        new FerryClientError('FERRY_CLIENT_BAD_ARGUMENT', 'payload must be a Uint8Array or a string'),
      );
    const body: OutgoingBody = { ...target, payload: bytes };
    const qos = opts.qos ?? 1;
    if (
      qos === 0 &&
      opts.ephemeral === true &&
      this.conn?.authed === true &&
      this.conn.transport?.datagrams === true
    ) {
      // §2.3: ephemeral QoS-0 frames may ride as datagrams; they are never acknowledged.
      const frame = Outbox.frameOf(body, { qos: 0, ephemeral: true, clientMsgId: opts.clientMsgId ?? '' }, 0);
      if (this.conn.transport.sendDatagram(frame))
        return Promise.resolve({
          clientMsgId: opts.clientMsgId ?? '',
          serverId: '',
          seq: 0,
          timestampMs: 0,
          duplicate: false,
          latencyMs: 0,
          target: body.target,
          kind: body.kind,
        });
    }
    return this.outbox.submit(body, opts);
  }

  private async subscribeNow(topic: string): Promise<{ topicSeq: number }> {
    const sinceSeq = this.inbox.topicOffsets.get(topic) ?? 0;
    const reply = await this.request({ subscribe: { topic, sinceSeq } });
    const topicSeq = Number(reply.reply?.topicSeq ?? 0);
    // Live-only subscription: nothing at or below the current offset will come.
    if ((this.inbox.topicOffsets.get(topic) ?? 0) === 0 && this.topics.has(topic))
      this.inbox.topicOffsets.set(topic, topicSeq);
    return { topicSeq };
  }

  /** Sends a request on the open connection and waits for its reply (requestTimeoutMs). */
  private request(body: Omit<FrameInit, 'id'>): Promise<Frame> {
    if (this.conn?.authed !== true)
      return Promise.reject(
        new FerryClientError('FERRY_CLIENT_NOT_CONNECTED', `not connected (state ${this.stateValue})`),
      );
    const id = this.requests.allocate();
    const reply = this.requests.wait(id, this.opts.requestTimeoutMs);
    this.write({ ...body, id });
    return reply;
  }

  /** Writes on the open connection; false when there is none. */
  private write(frame: FrameInit): boolean {
    const conn = this.conn;
    if (conn?.authed !== true || conn.transport === null) return false;
    conn.transport.send(frame);
    return true;
  }

  /** §5.6: a connection silent for about two heartbeats is dead; drop it instead of waiting for TCP. */
  private startHeartbeatWatch(conn: Connection, heartbeatMs: number): void {
    if (!(heartbeatMs > 0)) return;
    const check = (): void => {
      if (this.conn !== conn || !conn.authed) return;
      if (Date.now() - conn.lastRxMs > 2 * heartbeatMs + 1000) {
        conn.heartbeatTimeout = true;
        conn.transport?.close(4000, 'heartbeat timeout');
        conn.end({
          closeCode: 0,
          closeReason: 'no frame from the server for two heartbeats',
          heartbeatTimeout: true,
        });
        return;
      }
      this.timer(check, heartbeatMs);
    };
    this.timer(check, heartbeatMs);
  }

  /** Reconnects with a fresh token shortly before the current one expires (§5.1 step 6). */
  private scheduleTokenRefresh(conn: Connection, expiresAtMs: number): void {
    if (!(expiresAtMs > 0) || this.options.getToken === undefined) return;
    const remaining = expiresAtMs - Date.now();
    const delay = Math.max(
      0,
      remaining > 2 * this.opts.tokenRefreshMarginMs
        ? remaining - this.opts.tokenRefreshMarginMs
        : remaining / 2,
    );
    this.timer(() => {
      if (this.conn !== conn || !conn.authed || this.closing) return;
      this.tokenStale = true;
      this.refreshing = true;
      this.inbox.flush();
      conn.transport?.send({ disconnect: { code: 4000, reason: 'token refresh' } });
      conn.transport?.close(4000, 'token refresh');
      conn.end({ closeCode: 4000, closeReason: 'token refresh' });
    }, delay);
  }

  private async currentToken(): Promise<string> {
    if (this.options.getToken !== undefined && (this.token === undefined || this.tokenStale)) {
      this.token = await this.options.getToken();
      this.tokenStale = false;
    }
    return this.token ?? '';
  }

  private async certHashes(): Promise<readonly string[]> {
    const h = this.options.certHashes;
    if (h === undefined) return [];
    return typeof h === 'function' ? h() : h;
  }

  /** §5.8: `reconnect_url` names another node; use it for that transport from now on. */
  private redirect(url: string): void {
    try {
      this.opts.endpoints[transportOfUrl(url)] = url;
    } catch {
      // A URL for a transport this SDK does not speak: keep the current endpoints.
    }
  }

  private setState(state: ClientState): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.emit('state', { state, previous });
  }

  private finish(err: FerryClientError): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inbox.dispose();
    this.requests.failAll(err);
    this.outbox.failAll(err);
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    this.setState('closed');
  }

  private closedError(): FerryClientError {
    return new FerryClientError('FERRY_CLIENT_CLOSED', 'the client is closed');
  }

  private emitError(err: unknown): void {
    const e =
      err instanceof FerryClientError
        ? err
        : new FerryClientError('FERRY_CLIENT_PROTOCOL', String(err), { cause: err });
    if (e.code === 'FERRY_CLIENT_DISCONNECTED' || e.code === 'FERRY_CLIENT_CLOSED') return;
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  private timer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.timer(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.timers.delete(t);
        this.wake = null;
        resolve();
      };
    });
  }
}
