/**
 * The listeners clients connect to, as configured: WebSocket, raw TCP and WebTransport (with its
 * certificates: CA-issued from `wt.cert`/`wt.key`, else rotating development certificates in
 * `<dataDir>/certs`, whose hashes the admin port serves). Every socket passes admission first.
 */
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { admissionRefusalFrame } from '../session/session-manager.js';
import type { Admission } from '../transport/admission.js';
import { TcpListener } from '../transport/tcp/tcp-listener.js';
import type { ConnectionCallback, Listener } from '../transport/transport.js';
import { WebSocketListener } from '../transport/websocket/ws-listener.js';
import type { CertificateSource } from '../webtransport/index.js';
import { listenAddress, type GatewayAddresses } from './addresses.js';

/** Room above `limits.maxConnections` in the QUIC engine's own cap, so admission always decides first. */
const WT_CONNECTION_HEADROOM = 1024;

interface ClientListenerDeps {
  config: FerryConfig;
  admission: Admission;
  onConnection: ConnectionCallback;
  logger: Logger;
  metrics: Metrics;
}

/** The client listeners of one node; whatever started is closed by `close`, even after a failed start. */
export class ClientListeners {
  readonly addresses: Pick<GatewayAddresses, 'ws' | 'tcp' | 'wt'> = {};
  /** WebTransport's certificates (null without WebTransport). */
  certificates: CertificateSource | null = null;
  /** The QUIC engine of the WebTransport listener ('matrixai' or 'native'); null without WebTransport. */
  wtEngine: string | null = null;
  private readonly listeners: Listener[] = [];
  private readonly deps: ClientListenerDeps;
  private readonly log: Logger;

  constructor(deps: ClientListenerDeps) {
    this.deps = deps;
    this.log = componentLogger(deps.logger, 'transport');
  }

  /** Binds every enabled listener; resolves when all are bound. */
  async start(): Promise<void> {
    const { config, admission, onConnection, metrics } = this.deps;
    const { host } = config;
    const logger = this.log;
    if (config.ws.enabled) {
      const { port, path, allowedOrigins, tls } = config.ws;
      const maxPayloadBytes = config.limits.maxFrameBytes;
      const l = this.add(
        new WebSocketListener({
          host,
          port,
          path,
          allowedOrigins,
          tls,
          maxPayloadBytes,
          admission,
          onConnection,
          logger,
          metrics,
        }),
      );
      this.addresses.ws = listenAddress(tls ? 'wss' : 'ws', await l.listen(), path);
    }
    if (config.tcp.enabled) {
      const { port, tls } = config.tcp;
      const refusalFrame = admissionRefusalFrame;
      const l = this.add(
        new TcpListener({ host, port, tls, refusalFrame, admission, onConnection, logger, metrics }),
      );
      this.addresses.tcp = listenAddress(tls ? 'tls' : 'tcp', await l.listen(), '');
    }
    if (config.wt.enabled) await this.startWebTransport();
  }

  /** Stops taking connections (drain); open ones stay. */
  async stopAccepting(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.stopAccepting()));
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
    this.certificates?.close();
  }

  private add<L extends Listener>(l: L): L {
    this.listeners.push(l);
    return l;
  }

  /**
   * WebTransport on UDP `wt.port`. The HTTP/3 stack and its QUIC engines are loaded here, so a node
   * started without WebTransport never loads them.
   */
  private async startWebTransport(): Promise<void> {
    const { config, admission, onConnection, metrics, logger } = this.deps;
    const [{ CaCertificate, CertificateManager, WebTransportServer }, { WebTransportListener }] =
      await Promise.all([
        import('../webtransport/index.js'),
        import('../transport/webtransport/wt-listener.js'),
      ]);
    const certificates =
      config.wt.cert !== ''
        ? await CaCertificate.load(config.wt.cert, config.wt.key)
        : await CertificateManager.open({
            dataDir: config.dataDir,
            hostNames: [config.host],
            logger: componentLogger(logger, 'certs'),
          });
    this.certificates = certificates;
    if (certificates instanceof CertificateManager) certificates.start();
    const l = this.add(
      new WebTransportListener({
        host: config.host,
        port: config.wt.port,
        path: config.wt.path,
        allowedOrigins: config.ws.allowedOrigins,
        certificates,
        createServer: (opts) => {
          const server = new WebTransportServer({ ...opts, engine: config.wt.engine });
          this.wtEngine = server.engineName;
          return server;
        },
        limits: {
          // Admission answers a client over the cap (CONNECTION_CLOSE with the 4008 reason); the
          // engine's own cap, which drops Initials silently, stays above it.
          maxConnections: config.limits.maxConnections + WT_CONNECTION_HEADROOM,
          idleTimeoutMs: config.session.idleTimeoutMs,
          // QUIC handshake + CONNECT, from the first Initial.
          connectTimeoutMs: config.limits.handshakeTimeoutMs,
          // One session per QUIC connection, so admission's count of connections is a count of sessions.
          maxSessionsPerConnection: 1,
        },
        admission,
        onConnection,
        logger: this.log,
        metrics,
      }),
    );
    this.addresses.wt = listenAddress('https', await l.listen(), config.wt.path);
  }
}
