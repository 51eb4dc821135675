import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadOrCreateDevSecret } from '../../../src/auth/jwt/dev-secret.js';
import { JwtAuthenticator } from '../../../src/auth/jwt/jwt-authenticator.js';
import { mintToken } from '../../../src/auth/jwt/mint.js';
import { ConfigError } from '../../../src/errors.js';

const SECRET = 'mint-test-secret-with-at-least-32-bytes';
const NOW = 1_700_000_000_000;

describe('mintToken', () => {
  it('signs sub, did, iat and exp with the kid in the header, and verifies', async () => {
    const token = await mintToken({
      userId: 'alice',
      deviceId: 'phone',
      ttlMs: 3600_000,
      secret: SECRET,
      kid: 'k1',
      nowMs: NOW,
    });
    expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const claims = decodeJwt(token);
    expect(claims).to.include({ sub: 'alice', did: 'phone', iat: NOW / 1000, exp: NOW / 1000 + 3600 });

    const auth = await JwtAuthenticator.create(
      { hmacSecrets: { k1: SECRET }, publicKeys: {} },
      { now: () => NOW },
    );
    const id = await auth.authenticate(token);
    expect(id).to.include({ userId: 'alice', deviceId: 'phone', expiresAtMs: NOW + 3600_000 });
  });

  it('omits kid and did when not given, and adds issuer and audience when given', async () => {
    const token = await mintToken({
      userId: 'bob',
      ttlMs: 60_000,
      secret: SECRET,
      kid: '',
      issuer: 'ferry-dev',
      audience: 'ferry',
    });
    expect(decodeProtectedHeader(token)).to.not.have.property('kid');
    const claims = decodeJwt(token);
    expect(claims).to.not.have.property('did');
    expect(claims).to.include({ iss: 'ferry-dev', aud: 'ferry' });
    const auth = await JwtAuthenticator.create(
      { hmacSecrets: { '': SECRET }, publicKeys: {} },
      { issuer: 'ferry-dev', audience: 'ferry' },
    );
    expect((await auth.authenticate(token)).userId).to.equal('bob');
  });

  it('rounds exp up, so a sub-second ttl is not already expired', async () => {
    const claims = decodeJwt(await mintToken({ userId: 'a', ttlMs: 400, secret: SECRET, nowMs: NOW + 700 }));
    expect(claims.exp).to.equal(NOW / 1000 + 2);
    expect(claims.iat).to.equal(NOW / 1000);
  });

  it('refuses arguments the verifier would refuse', async () => {
    const base = { userId: 'alice', ttlMs: 1000, secret: SECRET };
    for (const bad of [
      { userId: '' },
      { userId: 'x'.repeat(129) },
      { userId: '中'.repeat(43) },
      { userId: 'a\u0085' },
      { userId: 'system' },
      { userId: '$svc' },
      { userId: 'bot', reservedUserIds: ['bot'] },
      { deviceId: 'tab\u200b' },
      { ttlMs: 0 },
      { ttlMs: NaN },
      { secret: 'short' },
    ]) {
      let caught: unknown;
      try {
        await mintToken({ ...base, ...bad });
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(bad)).to.be.instanceOf(RangeError);
    }
  });
});

describe('loadOrCreateDevSecret', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-dev-secret-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('creates a 0600 file of 32 random bytes in base64url once, then reads it back', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = await loadOrCreateDevSecret(dataDir);
    expect(first.created).to.equal(true);
    expect(first.kid).to.equal('dev');
    expect(first.path).to.equal(join(dataDir, 'dev-secret'));
    expect(first.secret).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.secret, 'base64url')).to.have.length(32);
    expect((await stat(first.path)).mode & 0o777).to.equal(0o600);
    expect((await readFile(first.path, 'utf8')).trim()).to.equal(first.secret);

    const second = await loadOrCreateDevSecret(dataDir);
    expect(second).to.deep.equal({ ...first, created: false });
  });

  it('gives every concurrent caller the same secret and leaves no temporary files', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevSecret(dir)));
    expect(new Set(results.map((r) => r.secret)).size).to.equal(1);
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect(await readdir(dir)).to.deep.equal(['dev-secret']);
  });

  it('differs between data directories', async () => {
    const a = await loadOrCreateDevSecret(join(dir, 'a'));
    const b = await loadOrCreateDevSecret(join(dir, 'b'));
    expect(a.secret).to.not.equal(b.secret);
  });

  it('refuses an existing file that is too short, naming it, without printing it', async () => {
    await writeFile(join(dir, 'dev-secret'), 'tiny\n');
    let caught: unknown;
    try {
      await loadOrCreateDevSecret(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as Error).message)
      .to.include(join(dir, 'dev-secret'))
      .and.to.include('delete it');
    expect((caught as Error).message).to.not.include('tiny');
  });

  it('reports a dev-secret path it cannot read (a directory) as a ConfigError', async () => {
    await mkdir(join(dir, 'dev-secret'));
    let caught: unknown;
    try {
      await loadOrCreateDevSecret(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as Error).message).to.match(/cannot read dev secret .*\(EISDIR\)/);
  });
});
