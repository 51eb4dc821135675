import { silentLogger } from '../../../src/observability/logger.js';
import { TcpListener } from '../../../src/transport/tcp/tcp-listener.js';
import { WebSocketListener } from '../../../src/transport/websocket/ws-listener.js';
import {
  generateTestCertificate,
  TcpTestClient,
  WsTestClient,
  type TestCertificate,
} from '../../helpers/transport-clients.js';
import { describeTransport } from './describe-transport.js';

// One certificate for the TLS variants; generated when this module loads so the factories can use
// it. The two TLS listeners take it in the two accepted forms: file paths and PEM contents.
const cert: TestCertificate = generateTestCertificate();
after(() => cert.remove());

const logger = silentLogger();

describeTransport('WebSocket', 'message', async (onConnection) => {
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

describeTransport('WebSocket over TLS', 'message', async (onConnection) => {
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

describeTransport('TCP', 'stream', async (onConnection) => {
  const listener = new TcpListener({ host: '127.0.0.1', port: 0, tls: null, onConnection, logger });
  const { port } = await listener.listen();
  return { listener, connect: () => TcpTestClient.connect(port) };
});

describeTransport('TCP over TLS', 'stream', async (onConnection) => {
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
