import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { createAccessClient } from '../../../src/access/client.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { generateTestCertificate, type TestCertificate } from '../../helpers/transport-clients.js';
import { callUnary } from './support.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

/**
 * The gRPC port accepts its own sockets and hands them to grpc-js through a connection injector
 * (src/access/grpc-listener.ts): TLS and mTLS must work exactly as with grpc-js's own listener, and
 * a caller's first call must end its handshake deadline (the socket turns `authenticated`).
 */
describe('access gateway over mTLS (sockets injected into grpc-js)', function () {
  this.timeout(30_000 * TIME_FACTOR);
  let gw: GatewayProcess;
  let cert: TestCertificate;

  before(async function () {
    // One self-signed pair serves as the server's certificate, the client CA and the client's own.
    cert = generateTestCertificate();
    gw = await GatewayProcess.start(
      ['--grpc-tls-cert', cert.certPath, '--grpc-tls-key', cert.keyPath, '--grpc-client-ca', cert.certPath],
      { grpc: true },
    );
  });
  after(async function () {
    await gw?.cleanup();
    cert?.remove();
  });

  it('serves calls of a caller with a client certificate; its socket leaves pre_auth with the first call', async function () {
    const client = createAccessClient(gw.urls.grpc.replace('127.0.0.1', 'localhost'), {
      tls: { ca: cert.certPath, cert: cert.certPath, key: cert.keyPath },
    });
    try {
      const stats = await callUnary(client, 'Stats', {}, { deadlineMs: 10_000 * TIME_FACTOR });
      expect(stats).to.have.property('nodeId');
      const metrics = (await gw.admin('/metrics')).body;
      expect(metrics).to.include('ferry_sockets{transport="grpc",phase="authenticated"} 1\n');
      expect(metrics).to.include('ferry_sockets{transport="grpc",phase="pre_auth"} 0\n');
    } finally {
      client.close();
    }
  });

  it('refuses a caller without a client certificate during the TLS handshake', async function () {
    const noCert = createAccessClient(gw.urls.grpc.replace('127.0.0.1', 'localhost'), {
      tls: { ca: cert.certPath },
    });
    try {
      const err = await callUnary(noCert, 'Stats', {}, { deadlineMs: 5000 * TIME_FACTOR }).then(
        () => null,
        (e: grpc.ServiceError) => e,
      );
      expect(err?.code).to.equal(grpc.status.UNAVAILABLE);
    } finally {
      noCert.close();
    }
  });
});
