/**
 * The client state machine: idle -> connecting -> open -> (reconnecting -> connecting -> open)* ->
 * closed. One connection at a time; QoS-1 sends wait in the outbox until their SendAck and are sent
 * again on every new connection with the same `client_msg_id` (the server deduplicates), so they
 * survive reconnects, transport changes and node changes. Deliveries resume from the last processed
 * seq (docs/protocol.md §5.4). The pieces: `dialer.ts` picks node and transport, `connection.ts` holds
 * one connection, `heartbeat.ts` and `token-source.ts` end it when due, `outbox.ts`/`outgoing.ts`
 * send, `inbox.ts` receives, `subscriptions.ts` keeps topics.
 */
import { Backoff } from './backoff.js';
import {
  openInfoOf,
  presenceOf,
  type ClientEvents,
  type ClientState,
  type OpenInfo,
  type UserPresence,
} from './client-events.js';
import { authenticate, disconnectOf, dropConnection, newConnection, type Connection } from './connection.js';
import { Dialer, type TransportFactories } from './dialer.js';
import { DISCONNECT_GOING_AWAY, FerryClientError } from './errors.js';
import { TypedEmitter } from './events.js';
import { watchHeartbeat } from './heartbeat.js';
import { Inbox, type Message } from './inbox.js';
import { NodeList } from './node-list.js';
import { resolveOptions, type ConnectOptions, type ResolvedOptions } from './options.js';
import { sendOutgoing } from './outgoing.js';
import { Outbox, type SendOptions, type SendResult } from './outbox.js';
import { adviseReconnect, type ConnectionEnd } from './reconnect-advice.js';
import { PendingRequests } from './requests.js';
import { Subscriptions, type SubscribeOptions } from './subscriptions.js';
import { Timers } from './timers.js';
import { TokenSource } from './token-source.js';
import { defaultStorage, TransportMemory } from './transport-memory.js';
import type { TransportClose, TransportKind } from './transports/transport.js';
import type { Frame, FrameInit } from './wire.js';

export type { ClientEvents, ClientState, DisconnectInfo, OpenInfo, UserPresence } from './client-events.js';
export type { TransportFactories } from './dialer.js';

export class FerryClient extends TypedEmitter<ClientEvents> {
  private readonly opts: ResolvedOptions;
  private readonly backoff: Backoff;
  private readonly nodes: NodeList;
  private readonly dialer: Dialer;
  private readonly tokens: TokenSource;
  private readonly timers = new Timers();
  private readonly requests = new PendingRequests();
  private readonly outbox: Outbox;
  private readonly inbox: Inbox;
  private readonly subscriptions: Subscriptions;
  private stateValue: ClientState = 'idle';
  private conn: Connection | null = null;
  private info: OpenInfo | null = null;
  /** The connection ended for a token refresh: reconnect at once, not after backoff. */
  private refreshing = false;
  private closing = false;
  private loopDone: Promise<void> = Promise.resolve();
  private openWaiters: { resolve(): void; reject(err: Error): void }[] = [];

  constructor(options: ConnectOptions, factories: TransportFactories, defaultOrder: TransportKind[]) {
    super();
    this.opts = resolveOptions(
      options,
      defaultOrder.filter((k) => factories[k] !== undefined),
    );
    this.backoff = new Backoff(options.backoff);
    this.nodes = new NodeList(this.opts.nodes);
    const memory = new TransportMemory(
      options.storage ?? defaultStorage(),
      `ferry:transport:${this.nodes.key()}`,
      this.opts.rememberFallbackMs,
    );
    this.dialer = new Dialer(
      this.nodes,
      this.opts.transports,
      factories,
      memory,
      this.opts.transportTimeoutMs,
      {
        isClosing: () => this.closing,
        certHashes: async () => {
          const h = options.certHashes;
          return h === undefined ? [] : typeof h === 'function' ? h() : h;
        },
        onAttempt: (a) => this.emit('transport', a),
      },
    );
    this.tokens = new TokenSource(options.token, options.getToken, this.opts.tokenRefreshMarginMs);
    this.inbox = new Inbox(this.opts.lastSeq, this.opts.ackDelayMs, (seq) => this.write({ ack: { seq } }));
    this.outbox = new Outbox(this.requests, {
      write: (frame) => this.write(frame),
      isOpen: () => this.conn?.authed === true,
      timeoutMs: this.opts.requestTimeoutMs,
      onAck: (r) => this.emit('ack', r),
      setTimer: (fn, ms) => this.timers.set(fn, ms),
    });
    this.subscriptions = new Subscriptions(this.inbox.topicOffsets, {
      isOpen: () => this.conn?.authed === true,
      whenOpen: () => this.whenOpen(),
      request: (body) => this.request(body),
      onError: (err) => this.emitError(err),
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
    if (this.stateValue === 'closed') return Promise.reject(closedError());
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
   * topic's current offset once the server confirmed; rejects with a FerryError 103 when the topic's
   * rules refuse this user (docs/security.md). `token` is a subscription token (or a function that
   * fetches one) for topics that need a grant.
   */
  subscribe(topic: string, opts: SubscribeOptions = {}): Promise<{ topicSeq: number }> {
    return this.subscriptions.subscribe(topic, opts);
  }

  /** Leaves `topic` (no more resubscribing). */
  unsubscribe(topic: string): Promise<void> {
    return this.subscriptions.unsubscribe(topic);
  }

  /** Asks which of `userIds` (1-100) are online, on which devices and nodes. */
  async presence(userIds: string[]): Promise<UserPresence[]> {
    const users = presenceOf(await this.request({ presenceQuery: { userIds } }));
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
    this.timers.wake();
    if (this.stateValue === 'idle') this.finish(closedError());
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
        const err = new FerryClientError('FERRY_CLIENT_CLOSED', `stopped: ${advice.code} ${advice.reason}`, {
          disconnectCode: advice.code,
        });
        this.finish(err);
        return;
      }
      if (advice.refreshToken) this.tokens.markStale();
      if (advice.url !== '') this.nodes.redirect(advice.url);
      // A draining node refuses new sessions until it exits: start with the next node, if any.
      else if (advice.code === DISCONNECT_GOING_AWAY) this.nodes.advance();
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
      await this.timers.sleep(delayMs);
    }
    this.finish(closedError());
  }

  /** One connection from transport choice to its end; resolves with how it ended. */
  private async runConnection(): Promise<ConnectionEnd> {
    const token = await this.tokens.current();
    const conn = newConnection(this.opts.transports[0] ?? 'ws');
    this.conn = conn;
    const transport = await this.dialer.open({
      onFrame: (frame) => this.onFrame(conn, frame),
      onClose: (info) => this.onTransportClose(conn, info),
    });
    if (this.closing) {
      transport.close(4000, 'client closed');
      return conn.ended;
    }
    conn.transport = transport;
    conn.kind = transport.kind;
    authenticate(conn, this.requests, this.timers, {
      token,
      deviceId: this.opts.deviceId,
      lastSeq: this.inbox.processedSeq,
      client: this.opts.clientName,
      timeoutMs: this.opts.authTimeoutMs,
      onAuthenticated: (frame) => this.onAuthenticated(conn, frame),
    });
    return conn.ended;
  }

  private onTransportClose(conn: Connection, info: TransportClose): void {
    if (info.protocolError === true)
      this.emitError(
        new FerryClientError('FERRY_CLIENT_PROTOCOL', `unreadable frames from the server: ${info.reason}`),
      );
    conn.end({ closeCode: info.code, closeReason: info.reason, protocolError: info.protocolError === true });
  }

  private onAuthenticated(conn: Connection, frame: Frame): void {
    const r = frame.authResult;
    if (r === undefined || r === null || conn.transport === null || this.conn !== conn) return;
    conn.authed = true;
    const transport = conn.transport;
    this.info = openInfoOf(r, transport.kind, this.nodes.current[transport.kind] ?? '');
    transport.setMaxFrameBytes(this.info.maxFrameBytes);
    this.backoff.reset();
    this.inbox.resumed(this.info.ackedSeq, this.info.logReset);
    watchHeartbeat(conn, this.info.heartbeatMs, this.timers, (c) => this.conn === c && c.authed);
    this.scheduleTokenRefresh(conn, this.info.expiresAtMs);
    this.setState('open');
    this.emit('open', this.info);
    const early = conn.early;
    conn.early = undefined;
    if (early !== undefined) for (const d of early) this.onDeliver(d);
    this.subscriptions.resubscribeAll();
    this.outbox.resendAll();
    for (const w of this.openWaiters.splice(0)) w.resolve();
  }

  /** Reconnects with a fresh token shortly before the current one expires (§5.1 step 6). */
  private scheduleTokenRefresh(conn: Connection, expiresAtMs: number): void {
    const delay = this.tokens.refreshDelay(expiresAtMs);
    if (delay === null) return;
    this.timers.set(() => {
      if (this.conn !== conn || !conn.authed || this.closing) return;
      this.tokens.markStale();
      this.refreshing = true;
      this.inbox.flush();
      conn.transport?.send({ disconnect: { code: 4000, reason: 'token refresh' } });
      dropConnection(conn, 'token refresh', { closeCode: 4000, closeReason: 'token refresh' });
    }, delay);
  }

  // -- inbound frames ------------------------------------------------------------------------------

  private onFrame(conn: Connection, frame: Frame): void {
    if (this.conn !== conn) return;
    conn.lastRxMs = Date.now();
    switch (frame.body) {
      case 'deliver':
        if (!frame.deliver) return;
        if (conn.authed) this.onDeliver(frame.deliver);
        else (conn.early ??= []).push(frame.deliver);
        return;
      case 'ping':
        conn.transport?.send({ id: frame.id, pong: { timestampMs: frame.ping?.timestampMs ?? 0 } });
        return;
      case 'disconnect':
        conn.disconnect = disconnectOf(frame);
        return;
      default:
        if (!this.requests.settle(frame) && frame.body === 'error')
          this.emitError(
            new FerryClientError(
              'FERRY_CLIENT_REQUEST_FAILED',
              `server error ${frame.error?.code}: ${frame.error?.message}`,
              { replyCode: frame.error?.code ?? 0 },
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
    if (this.closing || this.stateValue === 'closed') return Promise.reject(closedError());
    const transport = this.conn?.authed === true ? this.conn.transport : null;
    return sendOutgoing(this.outbox, transport, target, payload, opts);
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

  private setState(state: ClientState): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.emit('state', { state, previous });
  }

  private finish(err: FerryClientError): void {
    this.closing = true;
    this.timers.clearAll();
    this.inbox.dispose();
    this.requests.failAll(err);
    this.outbox.failAll(err);
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    this.setState('closed');
  }

  private emitError(err: unknown): void {
    const e =
      err instanceof FerryClientError
        ? err
        : new FerryClientError('FERRY_CLIENT_PROTOCOL', String(err), { cause: err });
    if (e.code === 'FERRY_CLIENT_DISCONNECTED' || e.code === 'FERRY_CLIENT_CLOSED') return;
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}

function closedError(): FerryClientError {
  return new FerryClientError('FERRY_CLIENT_CLOSED', 'the client is closed');
}
