import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  base64url,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
} from 'jose';
import { JwtAuthenticator } from '../../../src/auth/jwt/jwt-authenticator.js';
import { defaultConfig } from '../../../src/config/schema.js';
import { AuthError, ConfigError, DisconnectCode } from '../../../src/errors.js';

const NOW = 1_700_000_000_000;
const SEC = Math.floor(NOW / 1000);
const SECRET_A = 'a'.repeat(16) + '-secret-for-tests-0001';
const SECRET_B = 'b'.repeat(16) + '-secret-for-tests-0002';

type Header = { alg: string; kid?: string };

/** Signs a token with sensible defaults (sub alice, exp now+1h) that each test overrides. */
async function sign(
  key: CryptoKey | Uint8Array,
  header: Header,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ sub: 'alice', iat: SEC, exp: SEC + 3600, ...claims })
    .setProtectedHeader(header)
    .sign(key);
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AuthError);
    return err as AuthError;
  }
  expect.fail('expected the token to be refused');
}

describe('JwtAuthenticator', () => {
  let dir: string;
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey; pem: string };
  let ec: { publicKey: CryptoKey; privateKey: CryptoKey; pem: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-jwt-'));
    const r = await generateKeyPair('RS256', { extractable: true });
    rsa = { ...r, pem: await exportSPKI(r.publicKey) };
    const e = await generateKeyPair('ES256', { extractable: true });
    ec = { ...e, pem: await exportSPKI(e.publicKey) };
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const create = (
    material: { hmacSecrets?: Record<string, string>; publicKeys?: Record<string, string> },
    opts = {},
  ) =>
    JwtAuthenticator.create(
      { hmacSecrets: material.hmacSecrets ?? {}, publicKeys: material.publicKeys ?? {} },
      { now: () => NOW, ...opts },
    );

  describe('accepted tokens', () => {
    it('HS256 with the kid-less secret yields the identity', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const id = await auth.authenticate(await sign(bytes(SECRET_A), { alg: 'HS256' }, { role: 'agent' }));
      expect(id.userId).to.equal('alice');
      expect(id.deviceId).to.equal('');
      expect(id.expiresAtMs).to.equal((SEC + 3600) * 1000);
      expect(id.claims.role).to.equal('agent');
    });

    it('binds the device from the did claim', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const id = await auth.authenticate(await sign(bytes(SECRET_A), { alg: 'HS256' }, { did: 'phone-1' }));
      expect(id.deviceId).to.equal('phone-1');
    });

    it('reports expiresAtMs 0 for a token without exp when allowNoExpiry is set', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } }, { allowNoExpiry: true });
      const token = await new SignJWT({ sub: 'bob' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(bytes(SECRET_A));
      expect((await auth.authenticate(token)).expiresAtMs).to.equal(0);
    });

    it('RS256 with an inline PEM key, chosen by kid', async () => {
      const auth = await create({ publicKeys: { rsa1: rsa.pem } });
      const id = await auth.authenticate(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa1' }));
      expect(id.userId).to.equal('alice');
    });

    it('ES256 from a PEM file and from a JWKS file', async () => {
      const pemPath = join(dir, 'ec.pem');
      await writeFile(pemPath, ec.pem);
      const jwksPath = join(dir, 'jwks.json');
      const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-jwks', use: 'sig' };
      const other = { ...(await exportJWK(rsa.publicKey)), kid: 'ps', alg: 'PS256' }; // skipped: not RS256
      await writeFile(jwksPath, JSON.stringify({ keys: [jwk, other] }));

      const fromPem = await create({ publicKeys: { ec1: pemPath } });
      expect(
        (await fromPem.authenticate(await sign(ec.privateKey, { alg: 'ES256', kid: 'ec1' }))).userId,
      ).to.equal('alice');

      const fromJwks = await create({ publicKeys: { idp: jwksPath } });
      expect(fromJwks.describeKeys().map((k) => k.kid)).to.deep.equal(['ec-jwks']);
      const token = await sign(ec.privateKey, { alg: 'ES256', kid: 'ec-jwks' });
      expect((await fromJwks.authenticate(token)).userId).to.equal('alice');
    });
  });

  describe('key rotation', () => {
    it('accepts tokens of every configured kid and refuses unknown and removed ones', async () => {
      const both = await create({ hmacSecrets: { k1: SECRET_A, k2: SECRET_B } });
      const t1 = await sign(bytes(SECRET_A), { alg: 'HS256', kid: 'k1' });
      const t2 = await sign(bytes(SECRET_B), { alg: 'HS256', kid: 'k2' });
      expect((await both.authenticate(t1)).userId).to.equal('alice');
      expect((await both.authenticate(t2)).userId).to.equal('alice');
      expect(
        (await refusal(both.authenticate(await sign(bytes(SECRET_A), { alg: 'HS256', kid: 'k3' })))).message,
      ).to.equal('unknown key id "k3"');

      const rotated = await create({ hmacSecrets: { k2: SECRET_B } });
      expect((await refusal(rotated.authenticate(t1))).message).to.equal('unknown key id "k1"');
      expect((await rotated.authenticate(t2)).userId).to.equal('alice');
    });

    it('tries every key of the algorithm for a token without kid when there is no kid-less key', async () => {
      const auth = await create({ hmacSecrets: { k1: SECRET_A, k2: SECRET_B }, publicKeys: { r: rsa.pem } });
      expect((await auth.authenticate(await sign(bytes(SECRET_B), { alg: 'HS256' }))).userId).to.equal(
        'alice',
      );
      expect((await auth.authenticate(await sign(rsa.privateKey, { alg: 'RS256' }))).userId).to.equal(
        'alice',
      );
      const forged = await sign(bytes('z'.repeat(40)), { alg: 'HS256' });
      expect((await refusal(auth.authenticate(forged))).message).to.equal('invalid token signature');
    });

    it('uses only the kid-less key for a token without kid when one is configured', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A, k2: SECRET_B } });
      const err = await refusal(auth.authenticate(await sign(bytes(SECRET_B), { alg: 'HS256' })));
      expect(err.message).to.equal('invalid token signature');
    });
  });

  describe('time claims and clock skew (30 s)', () => {
    let auth: JwtAuthenticator;
    before(async () => {
      auth = await create({ hmacSecrets: { '': SECRET_A } }, { clockSkewMs: 30_000 });
    });
    const at = (claims: Record<string, unknown>) => sign(bytes(SECRET_A), { alg: 'HS256' }, claims);

    it('accepts a token expired 10 s ago (within skew)', async () => {
      expect((await auth.authenticate(await at({ exp: SEC - 10 }))).userId).to.equal('alice');
    });

    it('refuses a token expired beyond the skew with TOKEN_EXPIRED', async () => {
      const err = await refusal(auth.authenticate(await at({ exp: SEC - 31 })));
      expect(err.disconnectCode).to.equal(DisconnectCode.TOKEN_EXPIRED);
      expect(err.message).to.equal('token expired');
    });

    it('accepts a token valid from 10 s in the future, refuses one valid from 60 s', async () => {
      expect((await auth.authenticate(await at({ nbf: SEC + 10 }))).userId).to.equal('alice');
      const err = await refusal(auth.authenticate(await at({ nbf: SEC + 60 })));
      expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      expect(err.message).to.match(/not valid yet/);
    });

    it('reports a bad signature, not expiry, for a forged expired token', async () => {
      const forged = await sign(bytes(SECRET_B), { alg: 'HS256' }, { exp: SEC - 3600 });
      const err = await refusal(auth.authenticate(forged));
      expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      expect(err.message).to.equal('invalid token signature');
    });
  });

  describe('refused tokens', () => {
    it('wrong signature', async () => {
      const auth = await create({ hmacSecrets: { k1: SECRET_A } });
      const err = await refusal(auth.authenticate(await sign(bytes(SECRET_B), { alg: 'HS256', kid: 'k1' })));
      expect(err.message).to.equal('invalid token signature');
      expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
    });

    it('alg none, with and without kid', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const unsecured = new UnsecuredJWT({ sub: 'alice' }).encode();
      expect((await refusal(auth.authenticate(unsecured))).message).to.equal(
        'algorithm "none" not accepted (allowed: HS256, RS256, ES256)',
      );
      const header = base64url.encode(JSON.stringify({ alg: 'none', kid: '' }));
      const payload = base64url.encode(JSON.stringify({ sub: 'alice' }));
      expect((await refusal(auth.authenticate(`${header}.${payload}.`))).message).to.match(
        /"none" not accepted/,
      );
    });

    it('algorithms outside the three (HS512) even with a valid signature', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const token = await sign(bytes(SECRET_A.repeat(2)), { alg: 'HS512' });
      expect((await refusal(auth.authenticate(token))).message).to.match(/"HS512" not accepted/);
    });

    it('an HS256 token signed with the RSA public key as secret (alg confusion)', async () => {
      const auth = await create({ publicKeys: { rsa1: rsa.pem } });
      const withKid = await sign(bytes(rsa.pem), { alg: 'HS256', kid: 'rsa1' });
      expect((await refusal(auth.authenticate(withKid))).message).to.equal(
        'token algorithm HS256 does not match key "rsa1" (RS256)',
      );
      const withoutKid = await sign(bytes(rsa.pem), { alg: 'HS256' });
      expect((await refusal(auth.authenticate(withoutKid))).message).to.equal('no key for algorithm HS256');
    });

    it('an ES256 token presented for an RS256 kid', async () => {
      const auth = await create({ publicKeys: { k: rsa.pem } });
      const token = await sign(ec.privateKey, { alg: 'ES256', kid: 'k' });
      expect((await refusal(auth.authenticate(token))).message).to.match(/does not match key "k" \(RS256\)/);
    });

    it('garbage strings', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      for (const garbage of [
        '',
        'abc',
        'a.b.c',
        '....',
        'eyJ.eyJ.x',
        `${'x'.repeat(9000)}`,
        '\u0000\u0001.\u0002.',
      ]) {
        const err = await refusal(auth.authenticate(garbage));
        expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      }
    });

    it('any string is refused with an AuthError, never another error (property)', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const header = base64url.encode(JSON.stringify({ alg: 'HS256' }));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.string().map((s) => `${header}.${base64url.encode(s)}.${s}`),
          ),
          async (s) => {
            const err = await refusal(auth.authenticate(s));
            expect(err.message).to.not.include(SECRET_A);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('missing, empty, too long or control-character subjects and bad did claims', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const tok = (claims: Record<string, unknown>) => sign(bytes(SECRET_A), { alg: 'HS256' }, claims);
      expect((await refusal(auth.authenticate(await tok({ sub: undefined })))).message).to.equal(
        'token has no subject (sub)',
      );
      expect((await refusal(auth.authenticate(await tok({ sub: '' })))).message).to.equal(
        'token has no subject (sub)',
      );
      expect((await refusal(auth.authenticate(await tok({ sub: 'u'.repeat(129) })))).message).to.match(
        /longer than 128/,
      );
      expect((await auth.authenticate(await tok({ sub: 'u'.repeat(128) }))).userId).to.have.length(128);
      expect((await refusal(auth.authenticate(await tok({ sub: 'a\nb' })))).message).to.equal(
        'token subject (sub) contains U+000A (a control character)',
      );
      expect((await refusal(auth.authenticate(await tok({ did: 42 })))).message).to.match(
        /device id \(did\)/,
      );
      expect((await refusal(auth.authenticate(await tok({ did: '' })))).message).to.match(
        /device id \(did\)/,
      );
    });

    it('issuer and audience when configured', async () => {
      const auth = await create(
        { hmacSecrets: { '': SECRET_A } },
        { issuer: 'https://idp', audience: 'ferry' },
      );
      const tok = (claims: Record<string, unknown>) => sign(bytes(SECRET_A), { alg: 'HS256' }, claims);
      expect(
        (await auth.authenticate(await tok({ iss: 'https://idp', aud: ['x', 'ferry'] }))).userId,
      ).to.equal('alice');
      expect(
        (await refusal(auth.authenticate(await tok({ iss: 'https://evil', aud: 'ferry' })))).message,
      ).to.equal('token issuer not accepted');
      expect(
        (await refusal(auth.authenticate(await tok({ iss: 'https://idp', aud: 'other' })))).message,
      ).to.equal('token audience not accepted');
      expect((await refusal(auth.authenticate(await tok({})))).message).to.equal('token issuer not accepted');
    });
  });

  describe('expiry, identifiers and reserved ids', () => {
    const tok = (claims: Record<string, unknown>) => sign(bytes(SECRET_A), { alg: 'HS256' }, claims);

    it('refuses a token without exp with 4504 unless allowNoExpiry', async () => {
      const noExp = await new SignJWT({ sub: 'bob' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(bytes(SECRET_A));
      const err = await refusal((await create({ hmacSecrets: { '': SECRET_A } })).authenticate(noExp));
      expect(err.message).to.equal('token has no expiry (exp)');
      expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      const lax = await create({ hmacSecrets: { '': SECRET_A } }, { allowNoExpiry: true });
      expect((await lax.authenticate(noExp)).userId).to.equal('bob');
    });

    it('counts sub and did in UTF-8 bytes: 128 CJK characters (384 bytes) are refused, 42 fit', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      expect((await refusal(auth.authenticate(await tok({ sub: '中'.repeat(128) })))).message).to.equal(
        'token subject (sub) is longer than 128 bytes (UTF-8)',
      );
      expect((await auth.authenticate(await tok({ sub: '中'.repeat(42) }))).userId).to.equal('中'.repeat(42));
      expect((await refusal(auth.authenticate(await tok({ did: 'д'.repeat(65) })))).message).to.equal(
        'token device id (did) is longer than 128 bytes (UTF-8)',
      );
    });

    it('refuses C1 controls, format characters, separators and lone surrogates, naming the code point', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const cases: [string, string][] = [
        ['a\u0085b', 'contains U+0085 (a control character)'],
        ['evil\u202Egnp.exe', 'contains U+202E (a format character)'],
        ['zero\u200Bwidth', 'contains U+200B (a format character)'],
        ['\uFEFFbom', 'contains U+FEFF (a format character)'],
        ['line\u2028sep', 'contains U+2028 (a line or paragraph separator)'],
        ['lone\uD800', 'contains U+D800 (a lone surrogate: not well-formed UTF-16)'],
      ];
      for (const [sub, why] of cases) {
        expect((await refusal(auth.authenticate(await tok({ sub })))).message).to.equal(
          `token subject (sub) ${why}`,
        );
        expect((await refusal(auth.authenticate(await tok({ did: sub })))).message).to.equal(
          `token device id (did) ${why}`,
        );
      }
      // A surrogate pair is one well-formed character.
      expect((await auth.authenticate(await tok({ sub: 'smile\u{1F600}' }))).userId).to.equal(
        'smile\u{1F600}',
      );
    });

    it('refuses reserved subjects: "$"-prefixed ones and the configured list (default ["system"])', async () => {
      const auth = await create({ hmacSecrets: { '': SECRET_A } });
      const system = await refusal(auth.authenticate(await tok({ sub: 'system' })));
      expect(system.message).to.equal(
        'token subject (sub) "system" is reserved for the server (auth.reservedUserIds)',
      );
      expect(system.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      expect((await refusal(auth.authenticate(await tok({ sub: '$ops' })))).message).to.equal(
        'token subject (sub) "$ops" is reserved for the server (ids starting with "$")',
      );
      expect((await auth.authenticate(await tok({ sub: 'systems' }))).userId).to.equal('systems');
      const custom = await create({ hmacSecrets: { '': SECRET_A } }, { reservedUserIds: ['bot'] });
      expect((await custom.authenticate(await tok({ sub: 'system' }))).userId).to.equal('system');
      expect((await refusal(custom.authenticate(await tok({ sub: 'bot' })))).message).to.match(/reserved/);
      // A device id may be anything valid: reservation is about users.
      expect((await auth.authenticate(await tok({ did: 'system' }))).deviceId).to.equal('system');
    });
  });

  describe('key configuration errors (ConfigError)', () => {
    async function configError(p: Promise<unknown>): Promise<string> {
      try {
        await p;
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as Error).message;
      }
      expect.fail('expected a ConfigError');
    }

    it('no keys at all', async () => {
      expect(await configError(create({}))).to.match(/no JWT keys/);
    });

    it('a short secret, without echoing it', async () => {
      const msg = await configError(create({ hmacSecrets: { k1: 'tooshort' } }));
      expect(msg).to.equal('invalid config: auth.hmacSecrets.k1 must be at least 32 bytes, got 8 bytes');
    });

    it('a private key, a missing file, garbage and a duplicate kid, all at once', async () => {
      const privatePem = await exportPKCS8(rsa.privateKey);
      const jwksPath = join(dir, 'dup.json');
      await writeFile(
        jwksPath,
        JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'k1' }] }),
      );
      const msg = await configError(
        create({
          hmacSecrets: { k1: SECRET_A },
          publicKeys: {
            priv: privatePem,
            gone: join(dir, 'missing.pem'),
            junk: '{"keys": []}',
            dup: jwksPath,
          },
        }),
      );
      const lines = msg.split('\n');
      expect(lines).to.have.length(4);
      expect(lines[0]).to.match(/auth\.publicKeys\.priv: is a private key/);
      expect(lines[1]).to.match(/auth\.publicKeys\.gone: cannot read key file ".*missing\.pem" \(ENOENT\)/);
      expect(lines[2]).to.match(/auth\.publicKeys\.junk: contains no RS256 or ES256/);
      expect(lines[3]).to.match(
        /key id "k1" is configured twice \(auth\.hmacSecrets\.k1 and auth\.publicKeys\.dup/,
      );
      expect(msg).to.not.include(SECRET_A);
    });
  });

  describe('fromConfig', () => {
    it('falls back to the dev secret in dataDir when no keys are configured', async () => {
      const dataDir = join(dir, 'data');
      const defaults = defaultConfig();
      const auth = await JwtAuthenticator.fromConfig({
        ...defaults,
        dataDir,
        limits: { ...defaults.limits, maxUserIdLength: 8 },
      });
      expect(auth.describeKeys()).to.deep.equal([
        { kid: 'dev', alg: 'HS256', source: 'auth.hmacSecrets.dev' },
      ]);
      const secret = (await readFile(join(dataDir, 'dev-secret'), 'utf8')).trim();
      const ok = await new SignJWT({ sub: 'alice' })
        .setProtectedHeader({ alg: 'HS256', kid: 'dev' })
        .setExpirationTime('1h')
        .sign(bytes(secret));
      expect((await auth.authenticate(ok)).userId).to.equal('alice');
      const long = await new SignJWT({ sub: 'a'.repeat(9) })
        .setProtectedHeader({ alg: 'HS256', kid: 'dev' })
        .setExpirationTime('1h')
        .sign(bytes(secret));
      expect((await refusal(auth.authenticate(long))).message).to.match(/longer than 8/);
    });
  });
});
