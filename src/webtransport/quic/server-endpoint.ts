/**
 * The server side of the QUIC driver: one UDP socket, connection-id routing, Version Negotiation,
 * stateless Retry, and the connection cap.
 *
 * Routing (RFC 9000 §5.2): we issue 20-byte connection ids, so a short-header packet is routed by the
 * 20 bytes after its first byte without calling into the engine. Long-header packets are parsed by
 * the engine. A new connection is reachable under our connection id and under the client's original
 * destination id, because the client keeps using the latter for Initial retransmissions until it
 * hears from us.
 *
 * When the engine can own the socket (`QuicEngine.openSocket`, the native engine), it does: the engine
 * reads datagrams in batches, feeds every datagram whose destination id it has been told about (and
 * the ids the connection issued later) into the connection itself, drops short-header datagrams for
 * unknown ids, and hands this endpoint only the rest (new connections, Version Negotiation, Retry,
 * refusals: the same code below) plus, once per read pass, the handles of the connections that got
 * input. Sending a connection's packets is one `flush` call. Otherwise node:dgram carries every
 * datagram through JavaScript.
 */
import type dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { ConnectionAdmission, WtLogger } from '../api.js';
import type { QuicAddress, QuicEngine, QuicEngineConfig, QuicEngineSocket } from './engine.js';
import { QuicConnection } from './connection.js';
import { QuicEndpoint } from './endpoint.js';
import { initialConnectionClose, QUIC_V1 } from './initial-close.js';
import { RetryTokens } from './retry-token.js';

/** RFC 9000 §14.1: a server must discard Initial packets in datagrams smaller than 1200 bytes. */
const MIN_INITIAL_DATAGRAM = 1200;
/** Room for a Retry or Version Negotiation packet (RFC 9000 §17.2.1, §17.2.5). */
const STATELESS_PACKET_BYTES = 1500;
/** RFC 9000 §20.1: the server refused to accept a new connection. */
const CONNECTION_REFUSED = 0x2;
/**
 * Refusals remembered by destination id: a client's first flight may span several Initial datagrams
 * (a large ClientHello) and each is answered, but the decision is made, and counted, once.
 */
const REMEMBERED_REFUSALS = 1024;

/** Settings of a {@link QuicServerEndpoint}. */
export interface QuicServerEndpointOptions {
  host: string;
  port: number;
  engine: QuicEngine;
  config: QuicEngineConfig;
  /** Stateless Retry before creating connection state (RFC 9000 §8.1.2). */
  retry: boolean;
  /** Initials beyond this many live connections are dropped. */
  maxConnections: number;
  /**
   * Decides each new connection after address validation, before it is created; a refusal is
   * answered with CONNECTION_CLOSE (CONNECTION_REFUSED) and no state is kept. Default: accept.
   */
  admit?: (remoteAddress: string) => ConnectionAdmission;
  logger: WtLogger;
  /** A connection was created for a client's Initial; install its handler synchronously. */
  onConnection(conn: QuicConnection): void;
  /** Let the engine own the UDP socket when it can (default true); false keeps node:dgram. */
  engineSocket?: boolean;
}

/** Latin-1 string of a connection id: a cheap, exact Map key. */
function cidKey(cid: Uint8Array): string {
  return Buffer.from(cid.buffer, cid.byteOffset, cid.length).toString('latin1');
}

/** Accepts QUIC connections on one UDP socket. */
export class QuicServerEndpoint extends QuicEndpoint {
  private readonly routes = new Map<string, QuicConnection>();
  private readonly connections = new Set<QuicConnection>();
  private readonly tokens = new RetryTokens();
  private readonly refused = new Map<string, string>();
  private readonly cidLength: number;
  private config: QuicEngineConfig;
  /** The engine-owned socket, or null on node:dgram. */
  private wire: QuicEngineSocket | null = null;
  /** Connections by the handle the engine-owned socket reports them by. */
  private readonly byHandle: (QuicConnection | undefined)[] = [];
  private readonly freeHandles: number[] = [];

  private constructor(
    private readonly options: QuicServerEndpointOptions,
    ownSocket: boolean,
  ) {
    super(options.host, options.logger, false, !ownSocket);
    this.cidLength = options.engine.serverCidLength;
    this.config = options.config;
  }

  /** New connections use `config` from now on (certificate rotation); existing ones keep theirs. */
  setConfig(config: QuicEngineConfig): void {
    this.config = config;
  }

  /** Binds the socket and starts accepting. */
  static async listen(options: QuicServerEndpointOptions): Promise<QuicServerEndpoint> {
    const engineSocket = options.engine.openSocket !== undefined && options.engineSocket !== false;
    const endpoint = new QuicServerEndpoint(options, engineSocket);
    if (engineSocket) endpoint.openWire();
    else await endpoint.bind(options.host, options.port);
    return endpoint;
  }

  /** Whether the engine owns the socket (else node:dgram). */
  get engineOwnsSocket(): boolean {
    return this.wire !== null;
  }

  /** The engine-owned socket (tests and benchmarks read its counters), or null. */
  get engineSocket(): QuicEngineSocket | null {
    return this.wire;
  }

  private openWire(): void {
    const handles = this.byHandle;
    this.wire = this.options.engine.openSocket!(this.options.host, this.options.port, {
      onDatagram: (msg, host, port) => this.onPacket(msg, host, port),
      onInput: (ids, count) => {
        for (let i = 0; i < count; i++) handles[ids[i]!]?.received();
      },
    });
    this.local = this.wire.address;
  }

  /** Live connections (including ones that are closing). */
  get connectionCount(): number {
    return this.connections.size;
  }

  protected onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.onPacket(msg, rinfo.address, rinfo.port);
  }

  private onPacket(msg: Buffer, fromHost: string, fromPort: number): void {
    if (this.closed || msg.length === 0) return;
    const first = msg[0] as number;
    if ((first & 0x80) === 0) {
      // RFC 9000 §17.3.1: short header; the destination id is ours, so its length is known.
      if (msg.length <= this.cidLength) return;
      const conn = this.routes.get(msg.toString('latin1', 1, 1 + this.cidLength));
      // Unknown ids are dropped (no Stateless Reset, RFC 9000 §10.3, which is optional).
      if (conn !== undefined) conn.receive(msg, fromHost, fromPort);
      return;
    }
    // RFC 8999 §5.1: the version-independent long header (version, DCID, SCID) is all that can be
    // read before knowing the version; the engine's parser only understands versions it speaks.
    if (msg.length < 7) return;
    const version = msg.readUInt32BE(1);
    const dcidLength = msg[5] as number;
    if (7 + dcidLength > msg.length) return;
    const known = this.routes.get(msg.toString('latin1', 6, 6 + dcidLength));
    if (known !== undefined) {
      known.receive(msg, fromHost, fromPort);
      return;
    }
    const engine = this.options.engine;
    const peer: QuicAddress = { host: fromHost, port: fromPort };
    if (version !== 0 && !engine.versionIsSupported(version)) {
      const scidLength = msg[6 + dcidLength] as number;
      // RFC 9000 §6.1, §5.2.2: answer only datagrams large enough to start a connection.
      if (msg.length >= MIN_INITIAL_DATAGRAM && 7 + dcidLength + scidLength <= msg.length) {
        const dcid = msg.subarray(6, 6 + dcidLength);
        const scid = msg.subarray(7 + dcidLength, 7 + dcidLength + scidLength);
        const out = Buffer.allocUnsafe(STATELESS_PACKET_BYTES);
        this.sendRaw(out, engine.negotiateVersion(scid, dcid, out), peer);
      }
      return;
    }
    const header = engine.parseHeader(msg);
    if (header === null) return;
    if (header.type !== 'initial' || msg.length < MIN_INITIAL_DATAGRAM) return;
    if (this.connections.size >= this.options.maxConnections) {
      this.logger.debug({ peer }, 'webtransport: connection limit reached, initial dropped');
      return;
    }
    this.accept(msg, peer, header.scid, header.dcid, header.version, header.token);
  }

  private accept(
    msg: Buffer,
    peer: QuicAddress,
    clientScid: Uint8Array,
    dcid: Uint8Array,
    version: number,
    token: Uint8Array | null,
  ): void {
    const { engine } = this.options;
    const config = this.config;
    let scid: Uint8Array;
    let originalDcid: Uint8Array | null = null;
    if (this.options.retry) {
      const validated =
        token !== null && token.length > 0 && dcid.length === this.cidLength
          ? this.tokens.validate(token, peer, dcid)
          : null;
      if (validated === null) {
        if (token !== null && token.length > 0 && dcid.length === this.cidLength) {
          // RFC 9000 §8.1.3: a forged or expired Retry token; the client accepts only one Retry, so
          // there is nothing useful to answer.
          return;
        }
        const retryScid = randomBytes(this.cidLength);
        const newToken = this.tokens.mint(peer, dcid, retryScid);
        const out = Buffer.allocUnsafe(STATELESS_PACKET_BYTES);
        this.sendRaw(out, engine.retry(clientScid, dcid, retryScid, newToken, version, out), peer);
        return;
      }
      // RFC 9000 §7.3: the connection's id is the Retry's, and original_destination_connection_id
      // carries the id the client first chose.
      scid = Uint8Array.prototype.slice.call(dcid);
      originalDcid = validated.originalDcid;
    } else {
      scid = randomBytes(this.cidLength);
    }
    const dcidKey = cidKey(dcid);
    const refusedBefore = this.refused.get(dcidKey);
    if (refusedBefore !== undefined) {
      this.refuse(peer, clientScid, dcid, version, refusedBefore);
      return;
    }
    const admission = this.options.admit?.(peer.host) ?? null;
    if (admission !== null && 'refused' in admission) {
      if (this.refused.size >= REMEMBERED_REFUSALS) this.refused.delete(this.refused.keys().next().value!);
      this.refused.set(dcidKey, admission.refused);
      this.refuse(peer, clientScid, dcid, version, admission.refused);
      return;
    }
    let conn: QuicConnection;
    try {
      conn = new QuicConnection(engine.accept(scid, originalDcid, this.local, peer, config), this, peer);
    } catch (err) {
      admission?.release();
      this.logger.debug({ err, peer }, 'webtransport: quic accept failed');
      return;
    }
    conn.admission = admission;
    this.connections.add(conn);
    for (const key of new Set([cidKey(scid), cidKey(dcid)])) {
      conn.routingKeys.push(key);
      this.routes.set(key, conn);
    }
    const wire = this.wire;
    if (wire !== null) {
      const handle = this.freeHandles.pop() ?? this.byHandle.length;
      this.byHandle[handle] = conn;
      conn.handle = handle;
      wire.route(conn.engine, handle, scid);
      wire.route(conn.engine, handle, dcid);
    }
    this.options.onConnection(conn);
    conn.receive(msg, peer.host, peer.port);
  }

  /**
   * Answers a refused client's Initial with CONNECTION_CLOSE (CONNECTION_REFUSED, `reason`) in an
   * Initial packet of its own making: no connection, no TLS work, nothing kept but the remembered
   * refusal. Versions other than 1 are not answered (the engine speaks no other).
   */
  private refuse(
    peer: QuicAddress,
    clientScid: Uint8Array,
    dcid: Uint8Array,
    version: number,
    reason: string,
  ): void {
    if (version !== QUIC_V1) return;
    const packet = initialConnectionClose(clientScid, dcid, CONNECTION_REFUSED, reason);
    this.sendRaw(packet, packet.length, peer);
  }

  override transmit(conn: QuicConnection): number {
    if (this.closed) return 0;
    const sent = this.wire !== null ? this.wire.flush(conn.engine) : super.transmit(conn);
    // RFC 9000 §5.1.1: the peer may switch to any id we issued; each must route here.
    const issued = conn.engine.takeNewConnectionIds?.();
    if (issued != null && !conn.isClosing) {
      for (const cid of issued) {
        const key = cidKey(cid);
        conn.routingKeys.push(key);
        this.routes.set(key, conn);
      }
    }
    return sent;
  }

  protected override sendRaw(bytes: Uint8Array, length: number, to: QuicAddress): void {
    if (this.wire === null) super.sendRaw(bytes, length, to);
    else if (!this.closed) this.wire.sendRaw(bytes, length, to);
  }

  forget(conn: QuicConnection): void {
    for (const key of conn.routingKeys) {
      if (this.routes.get(key) === conn) this.routes.delete(key);
    }
    if (conn.handle >= 0) {
      this.wire?.unroute(conn.engine);
      this.byHandle[conn.handle] = undefined;
      this.freeHandles.push(conn.handle);
      conn.handle = -1;
    }
    this.connections.delete(conn);
    conn.admission?.release();
    conn.admission = null;
  }

  /**
   * Closes every connection with an application CONNECTION_CLOSE (`code`, `reason`), sends those
   * packets, then closes the socket. Handlers see `onClosed` before this resolves.
   */
  async close(code: number, reason: string): Promise<void> {
    if (this.closed) return;
    for (const conn of [...this.connections]) {
      conn.close(true, code, reason);
      conn.process();
      conn.abandon();
      this.forget(conn);
    }
    await this.closeSocket();
    await this.wire?.close();
  }
}
