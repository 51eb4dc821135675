import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/observability/logger.js';
import { TcpListener } from '../../../src/transport/tcp/tcp-listener.js';
import { WebTransportListener } from '../../../src/transport/webtransport/wt-listener.js';
import { WebSocketListener } from '../../../src/transport/websocket/ws-listener.js';
import { CertificateManager } from '../../../src/webtransport/certs.js';
import { WebTransportServer } from '../../../src/webtransport/index.js';
import {
  generateTestCertificate,
  TcpTestClient,
  WsTestClient,
  WtTestClient,
  type TestCertificate,
} from '../../helpers/transport-clients.js';
import { describeTransport, type TransportTraits } from './describe-transport.js';

// One certificate for the TLS variants; generated when this module loads so the factories can use
// it. The two TLS listeners take it in the two accepted forms: file paths and PEM contents.
const cert: TestCertificate = generateTestCertificate();
after(() => cert.remove());

const logger = silentLogger();

const WS_TRAITS: TransportTraits = {
  framing: 'message',
  datagrams: false,
  closeCodeSeen: 4001,
  vanishedCode: 1006,
};
const TCP_TRAITS: TransportTraits = {
  framing: 'stream',
  datagrams: false,
  closeCodeSeen: 0,
  vanishedCode: 0,
};
const WT_TRAITS: TransportTraits = {
  framing: 'stream',
  datagrams: true,
  closeCodeSeen: 4001,
  vanishedCode: 0,
};

describeTransport('WebSocket', WS_TRAITS, async (onConnection) => {
  const listener = new WebSocketListener({
    host: '127.0.0.1',
    port: 0,
    tls: null,
    maxPayloadBytes: 64 * 1024,
    onConnection,
    logger,
  });
  const { port } = await listener.listen();
  return { listener, connect: () => WsTestClient.connect(`ws://127.0.0.1:${port}/ws`) };
});

describeTransport('WebSocket over TLS', WS_TRAITS, async (onConnection) => {
  const listener = new WebSocketListener({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: cert.certPath, key: cert.keyPath },
    maxPayloadBytes: 64 * 1024,
    onConnection,
    logger,
  });
  const { port } = await listener.listen();
  return {
    listener,
    connect: () => WsTestClient.connect(`wss://127.0.0.1:${port}/ws`, { ca: cert.certPem }),
  };
});

describeTransport('TCP', TCP_TRAITS, async (onConnection) => {
  const listener = new TcpListener({ host: '127.0.0.1', port: 0, tls: null, onConnection, logger });
  const { port } = await listener.listen();
  return { listener, connect: () => TcpTestClient.connect(port) };
});

describeTransport('TCP over TLS', TCP_TRAITS, async (onConnection) => {
  const listener = new TcpListener({
    host: '127.0.0.1',
    port: 0,
    tls: { cert: cert.certPem, key: cert.keyPem },
    onConnection,
    logger,
  });
  const { port } = await listener.listen();
  return { listener, connect: () => TcpTestClient.connect(port, { ca: cert.certPem }) };
});

// One development certificate (P-256, 13 days, as `ferry start` makes) for every WebTransport
// listener of the suite; clients pin it by hash.
const wtDataDir = mkdtempSync(join(tmpdir(), 'ferry-wt-conformance-'));
const wtCerts = CertificateManager.open({ dataDir: wtDataDir });
after(async () => {
  (await wtCerts).close();
  rmSync(wtDataDir, { recursive: true, force: true });
});

describeTransport('WebTransport', WT_TRAITS, async (onConnection) => {
  const certificates = await wtCerts;
  const listener = new WebTransportListener({
    host: '127.0.0.1',
    port: 0,
    certificates,
    createServer: (opts) => new WebTransportServer(opts),
    // A client that vanishes is noticed by QUIC's idle timeout: keep it short here.
    limits: { idleTimeoutMs: 1500 },
    onConnection,
    logger,
  });
  const { port } = await listener.listen();
  const hashes = certificates.currentHashes().map((h) => h.value);
  return { listener, connect: () => WtTestClient.connect(`https://127.0.0.1:${port}/wt`, hashes) };
});
