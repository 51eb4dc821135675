import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import type { Logger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import {
  handleServerErrors,
  listenOn,
  loadTlsMaterial,
  normalizeRemoteAddress,
  SocketTracker,
  stopServer,
} from '../../../src/transport/listener-support.js';

/** A logger that only records error() calls (all the code under test uses). */
function fakeLogger(): { logger: Logger; errors: unknown[][] } {
  const errors: unknown[][] = [];
  const logger = { error: (...args: unknown[]) => errors.push(args) } as unknown as Logger;
  return { logger, errors };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, syscall: 'accept' });
}

describe('listener-support', function () {
  describe('handleServerErrors', function () {
    it('counts accept errors on a listening server and logs them at a bounded rate, without throwing', async function () {
      const server = net.createServer();
      const metrics = new Metrics({ defaultMetrics: false });
      const { logger, errors } = fakeLogger();
      const sink = handleServerErrors(server, 'tcp', logger, metrics);
      await listenOn(server, sink, '127.0.0.1', 0);
      try {
        // What net.Server does when accept() fails: emit 'error' (fatal without a listener).
        for (let i = 0; i < 5; i++) server.emit('error', errno('EMFILE'));
        server.emit('error', errno('ENFILE'));
        const { values } = await metrics.connectionsRefused.get();
        const byReason = Object.fromEntries(values.map((v) => [v.labels.reason, v.value]));
        expect(byReason).to.deep.equal({ emfile: 5, enfile: 1 });
        expect(errors).to.have.length(1);
        expect(server.listening).to.equal(true);
      } finally {
        await stopServer(server).allClosed;
      }
    });

    it('routes errors during listen() to the listen promise instead', async function () {
      const taken = net.createServer();
      const { port } = await listenOn(
        taken,
        handleServerErrors(taken, 'tcp', fakeLogger().logger, undefined),
        '127.0.0.1',
        0,
      );
      const server = net.createServer();
      const { logger, errors } = fakeLogger();
      const sink = handleServerErrors(server, 'tcp', logger, undefined);
      try {
        let failure: NodeJS.ErrnoException | null = null;
        await listenOn(server, sink, '127.0.0.1', port).catch(
          (err: NodeJS.ErrnoException) => (failure = err),
        );
        expect(failure).to.have.property('code', 'EADDRINUSE');
        expect(errors).to.have.length(0);
      } finally {
        await stopServer(taken).allClosed;
        await stopServer(server).allClosed;
      }
    });
  });

  describe('stopServer', function () {
    it('resolves at once for a server that never listened', async function () {
      await stopServer(net.createServer()).allClosed;
    });
  });

  describe('normalizeRemoteAddress', function () {
    it('strips the IPv4-mapped prefix and leaves other addresses alone', function () {
      expect(normalizeRemoteAddress('::ffff:10.1.2.3')).to.equal('10.1.2.3');
      expect(normalizeRemoteAddress('127.0.0.1')).to.equal('127.0.0.1');
      expect(normalizeRemoteAddress('::1')).to.equal('::1');
      expect(normalizeRemoteAddress('::ffff:abcd')).to.equal('::ffff:abcd');
      expect(normalizeRemoteAddress(undefined)).to.equal('');
    });
  });

  describe('loadTlsMaterial', function () {
    it('passes PEM contents through and reads paths', async function () {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-tls-'));
      try {
        const certPem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
        const keyPem = '-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n';
        writeFileSync(join(dir, 'key.pem'), keyPem);
        const loaded = await loadTlsMaterial({ cert: certPem, key: join(dir, 'key.pem') });
        expect(loaded).to.deep.equal({ cert: certPem, key: keyPem });
        let failure: NodeJS.ErrnoException | null = null;
        await loadTlsMaterial({ cert: join(dir, 'missing.pem'), key: keyPem }).catch(
          (err: NodeJS.ErrnoException) => (failure = err),
        );
        expect(failure).to.have.property('code', 'ENOENT');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('SocketTracker', function () {
    it('forgets closed sockets and destroys the rest on destroyAll', async function () {
      const tracker = new SocketTracker();
      const [a, b, c] = [new PassThrough(), new PassThrough(), new PassThrough()];
      for (const s of [a, b, c]) tracker.add(s);
      expect(tracker.size).to.equal(3);
      a.destroy();
      await new Promise((resolve) => a.once('close', resolve));
      expect(tracker.size).to.equal(2);
      tracker.destroyAll();
      await Promise.all([b, c].map((s) => new Promise((resolve) => s.once('close', resolve))));
      expect([b.destroyed, c.destroyed, tracker.size]).to.deep.equal([true, true, 0]);
    });
  });
});
