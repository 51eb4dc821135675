import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Connection } from '../../../src/transport/transport.js';
import { WebTransportListener } from '../../../src/transport/webtransport/wt-listener.js';
import { CertificateManager, RENEW_BEFORE_MS, SWITCH_BEFORE_MS } from '../../../src/webtransport/certs.js';
import { DEV_CERT_VALIDITY_MS } from '../../../src/webtransport/cert-files.js';
import {
  connect,
  WebTransportServer,
  type WebTransportClientSession,
} from '../../../src/webtransport/index.js';

const DAY = 24 * 3600_000;

/**
 * Certificate rotation through the real engine: the listener hands each switch to the server, new
 * connections get the new certificate, and sessions opened before keep working on the old one.
 * In-process, with the manager's clock moved by hand (the Node client pins by hash and, unlike a
 * browser, does not check validity dates, so certificates "from the future" are fine here).
 */
describe('WebTransport certificate rotation with the real server', function () {
  this.timeout(30_000);
  let dataDir: string;
  let listener: WebTransportListener;
  let manager: CertificateManager;
  const accepted: Connection[] = [];
  const sessions: WebTransportClientSession[] = [];
  let t = Date.now();

  before(async function () {
    dataDir = mkdtempSync(join(tmpdir(), 'ferry-rotation-'));
    manager = await CertificateManager.open({ dataDir, now: () => t });
    listener = new WebTransportListener({
      host: '127.0.0.1',
      port: 0,
      certificates: manager,
      createServer: (opts) => new WebTransportServer(opts),
      onConnection: (c) => {
        c.setHandler({ onData() {}, onDatagram() {}, onDrain() {}, onClose() {} });
        accepted.push(c);
      },
      logger: silentLogger(),
    });
  });

  after(async function () {
    for (const s of sessions) s.close(0, '');
    await listener.close();
    manager.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the next certificate to new connections after the switch; old sessions stay', async function () {
    const { port } = await listener.listen();
    const url = `https://127.0.0.1:${port}/wt`;
    const first = manager.current().hash.value;
    const before = await connect(url, { certHashes: [first] });
    sessions.push(before);

    // Overlap: the next certificate exists, both hashes are published, the server still serves the first.
    t += DEV_CERT_VALIDITY_MS - RENEW_BEFORE_MS + DAY;
    await manager.check();
    const [, next] = manager.currentHashes().map((h) => h.value);
    expect(next).to.be.a('string');
    sessions.push(await connect(url, { certHashes: [first] }));

    // Switch: new connections get the next certificate, and only it.
    t += RENEW_BEFORE_MS - SWITCH_BEFORE_MS;
    expect(await manager.check()).to.equal(true);
    sessions.push(await connect(url, { certHashes: [next!] }));
    let refused: unknown = null;
    await connect(url, { certHashes: [first], timeoutMs: 3000 }).catch((e: unknown) => (refused = e));
    expect(refused).to.be.instanceOf(Error);

    // The session opened on the first certificate is still up.
    expect(accepted).to.have.length(3);
    const stream = before.openBidiStream();
    expect(stream.write(new Uint8Array([0, 0, 0, 0]))).to.equal(true);
    expect(listener.size).to.equal(3);
  });
});
