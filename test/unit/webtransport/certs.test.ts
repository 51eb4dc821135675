import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  DEV_CERT_VALIDITY_MS,
  generateDevCertificate,
  inspectCertificate,
  MAX_PINNED_VALIDITY_MS,
  pinProblem,
  slotPaths,
} from '../../../src/webtransport/cert-files.js';
import {
  CaCertificate,
  CertificateManager,
  RENEW_BEFORE_MS,
  SWITCH_BEFORE_MS,
  type ServingCertificate,
} from '../../../src/webtransport/certs.js';

const DAY = 24 * 3600_000;
/** A fixed start so the tests do not depend on the machine's clock. */
const T0 = Date.UTC(2030, 0, 10, 12, 0, 0);

/** An injectable clock. */
function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('webtransport certificates', function () {
  let dataDir: string;
  beforeEach(function () {
    dataDir = mkdtempSync(join(tmpdir(), 'ferry-certs-'));
  });
  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('generateDevCertificate', function () {
    let cert: ServingCertificate;
    before(async function () {
      cert = await generateDevCertificate({ now: T0, hostNames: ['gw.example.test', '10.1.2.3', '0.0.0.0'] });
    });

    it('is a self-signed ECDSA P-256 certificate whose key matches', function () {
      const x = new X509Certificate(cert.certPem);
      expect(x.publicKey.asymmetricKeyType).to.equal('ec');
      expect(x.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
      expect(x.verify(x.publicKey)).to.equal(true);
      expect(x.issuer).to.equal(x.subject);
      expect(x.ca).to.equal(false);
      expect(x.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']); // extKeyUsage serverAuth
      expect(() => inspectCertificate(cert.certPem, cert.keyPem, '', '')).not.to.throw();
    });

    it('is valid for 13 days, starting a little before now (clock skew), within the 14-day cap', function () {
      const span = cert.notAfter.getTime() - cert.notBefore.getTime();
      expect(span).to.equal(DEV_CERT_VALIDITY_MS);
      expect(span).to.be.at.most(MAX_PINNED_VALIDITY_MS);
      expect(cert.notBefore.getTime()).to.be.below(T0);
      expect(T0 - cert.notBefore.getTime()).to.be.at.most(3600_000);
      expect(pinProblem(cert, T0)).to.equal(null);
    });

    it('covers localhost, 127.0.0.1, ::1 and the configured host names, not wildcard addresses', function () {
      const x = new X509Certificate(cert.certPem);
      expect(x.checkHost('localhost')).to.equal('localhost');
      expect(x.checkHost('gw.example.test')).to.equal('gw.example.test');
      expect(x.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(x.checkIP('::1')).to.equal('::1');
      expect(x.checkIP('10.1.2.3')).to.equal('10.1.2.3');
      expect(x.checkIP('0.0.0.0')).to.equal(undefined);
      expect(pinProblem(cert, T0, ['gw.example.test'])).to.equal(null);
      expect(pinProblem(cert, T0, ['other.example.test'])).to.equal('does not cover other.example.test');
    });

    it('publishes sha256 of the DER, base64 and hex, with notAfter', function () {
      const der = new X509Certificate(cert.certPem).raw;
      const digest = createHash('sha256').update(der).digest();
      expect(cert.hash).to.deep.equal({
        algorithm: 'sha-256',
        value: digest.toString('base64'),
        hex: digest.toString('hex'),
        notAfter: cert.notAfter.toISOString(),
      });
    });

    it('is refused for pinning when expired, not yet valid, or valid for too long', async function () {
      expect(pinProblem(cert, cert.notAfter.getTime())).to.equal('expired');
      expect(pinProblem(cert, cert.notBefore.getTime() - 1)).to.equal('not valid yet');
      const long = await generateDevCertificate({ now: T0, validityMs: 15 * DAY });
      expect(pinProblem(long, T0)).to.equal('valid for more than 14 days');
    });

    it('refuses a key that belongs to another certificate', async function () {
      const other = await generateDevCertificate({ now: T0 });
      expect(() => inspectCertificate(cert.certPem, other.keyPem, '', '')).to.throw(/does not match/);
    });
  });

  describe('CertificateManager', function () {
    it('creates a certificate in <dataDir>/certs with owner-only files, and reloads it', async function () {
      const c = clock();
      const m1 = await CertificateManager.open({ dataDir, now: c.now });
      const first = m1.current();
      expect(first.certPath).to.equal(slotPaths(join(dataDir, 'certs'), 'current').certPath);
      expect(statSync(first.certPath).mode & 0o777).to.equal(0o600);
      expect(statSync(first.keyPath).mode & 0o777).to.equal(0o600);
      expect(await readFile(first.keyPath, 'utf8')).to.contain('BEGIN PRIVATE KEY');
      expect(m1.currentHashes()).to.deep.equal([first.hash]);

      c.advance(3 * DAY);
      const m2 = await CertificateManager.open({ dataDir, now: c.now });
      expect(m2.current().hash).to.deep.equal(first.hash);
      expect(m2.next()).to.equal(null);
    });

    it('rotates with an overlap: next generated ahead, both hashes published, then the switch', async function () {
      const c = clock();
      const m = await CertificateManager.open({ dataDir, now: c.now });
      const first = m.current();
      const rotated: ServingCertificate[] = [];
      m.onRotate((cert) => rotated.push(cert));

      // Not yet inside the renewal window: nothing changes.
      c.advance(DEV_CERT_VALIDITY_MS - RENEW_BEFORE_MS - DAY);
      expect(await m.check()).to.equal(false);
      expect(m.currentHashes()).to.have.length(1);

      // Renewal window: a next certificate exists, both hashes are published, the server keeps the first.
      c.advance(2 * DAY);
      expect(await m.check()).to.equal(false);
      const next = m.next();
      expect(next).to.not.equal(null);
      expect(m.current().hash.hex).to.equal(first.hash.hex);
      expect(m.currentHashes().map((h) => h.hex)).to.deep.equal([first.hash.hex, next!.hash.hex]);
      expect(rotated).to.have.length(0);

      // The same state survives a restart in the overlap.
      const reloaded = await CertificateManager.open({ dataDir, now: c.now });
      expect(reloaded.currentHashes()).to.deep.equal(m.currentHashes());

      // Switch window: the next certificate becomes current and listeners hear of it.
      c.advance(RENEW_BEFORE_MS - SWITCH_BEFORE_MS);
      expect(await m.check()).to.equal(true);
      expect(m.current().hash.hex).to.equal(next!.hash.hex);
      expect(m.current().certPath).to.equal(first.certPath);
      expect(m.next()).to.equal(null);
      expect(rotated.map((r) => r.hash.hex)).to.deep.equal([next!.hash.hex]);
      expect(pinProblem(m.current(), c.now())).to.equal(null);
    });

    it('replaces an expired certificate found at start', async function () {
      const c = clock();
      const old = (await CertificateManager.open({ dataDir, now: c.now })).current();
      c.advance(30 * DAY);
      const m = await CertificateManager.open({ dataDir, now: c.now });
      expect(m.current().hash.hex).to.not.equal(old.hash.hex);
      expect(pinProblem(m.current(), c.now())).to.equal(null);
    });

    it('rotate() forces a fresh current certificate; a second manager adopts it on its next check', async function () {
      const c = clock();
      const serving = await CertificateManager.open({ dataDir, now: c.now });
      const before = serving.current();
      const seen: string[] = [];
      serving.onRotate((cert) => seen.push(cert.hash.hex));

      const cli = await CertificateManager.open({ dataDir, now: c.now });
      const fresh = await cli.rotate();
      expect(fresh.hash.hex).to.not.equal(before.hash.hex);

      expect(await serving.check()).to.equal(true);
      expect(seen).to.deep.equal([fresh.hash.hex]);
      expect(serving.currentHashes()).to.deep.equal([fresh.hash]);
    });

    it('regenerates when the files are damaged', async function () {
      const c = clock();
      const first = (await CertificateManager.open({ dataDir, now: c.now })).current();
      writeFileSync(first.keyPath, 'not a key');
      const m = await CertificateManager.open({ dataDir, now: c.now });
      expect(m.current().hash.hex).to.not.equal(first.hash.hex);
    });

    it('regenerates when the configured host names are not covered', async function () {
      const c = clock();
      const first = (await CertificateManager.open({ dataDir, now: c.now })).current();
      const m = await CertificateManager.open({ dataDir, now: c.now, hostNames: ['gw.example.test'] });
      expect(m.current().hash.hex).to.not.equal(first.hash.hex);
      expect(new X509Certificate(m.current().certPem).checkHost('gw.example.test')).to.equal(
        'gw.example.test',
      );
    });
  });

  describe('CaCertificate', function () {
    it('serves the configured pair and publishes no hashes', async function () {
      const cert = await generateDevCertificate({ now: Date.now() });
      writeFileSync(join(dataDir, 'c.pem'), cert.certPem);
      writeFileSync(join(dataDir, 'k.pem'), cert.keyPem);
      const ca = await CaCertificate.load(join(dataDir, 'c.pem'), join(dataDir, 'k.pem'));
      expect(ca.ca).to.equal(true);
      expect(ca.current().certPem).to.equal(cert.certPem);
      expect(ca.currentHashes()).to.deep.equal([]);
    });

    it('refuses a key that does not match', async function () {
      const a = await generateDevCertificate({ now: Date.now() });
      const b = await generateDevCertificate({ now: Date.now() });
      writeFileSync(join(dataDir, 'c.pem'), a.certPem);
      writeFileSync(join(dataDir, 'k.pem'), b.keyPem);
      let failed: unknown = null;
      await CaCertificate.load(join(dataDir, 'c.pem'), join(dataDir, 'k.pem')).catch(
        (e: unknown) => (failed = e),
      );
      expect(String(failed)).to.match(/does not match/);
    });
  });
});
