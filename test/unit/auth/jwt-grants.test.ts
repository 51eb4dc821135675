import { expect } from 'chai';
import { SignJWT } from 'jose';
import { JwtAuthenticator } from '../../../src/auth/jwt/jwt-authenticator.js';
import { mintSubscriptionToken, SUBSCRIPTION_TOKEN_TYPE } from '../../../src/auth/jwt/subscription-token.js';
import { MAX_GRANT_PATTERNS } from '../../../src/auth/grants.js';
import { AuthError, DisconnectCode } from '../../../src/errors.js';

const NOW = 1_700_000_000_000;
const SEC = Math.floor(NOW / 1000);
const SECRET = 'grants-test-secret-of-more-than-32-bytes';
const key = new TextEncoder().encode(SECRET);

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ sub: 'alice', iat: SEC, exp: SEC + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AuthError);
    return err as AuthError;
  }
  return expect.fail('expected a refusal');
}

describe('JwtAuthenticator: grants and subscription tokens', () => {
  let auth: JwtAuthenticator;
  before(async () => {
    auth = await JwtAuthenticator.create(
      { hmacSecrets: { '': SECRET }, publicKeys: {} },
      { now: () => NOW, maxTopicLength: 16, maxUserIdLength: 8 },
    );
  });

  it('reads the topics and presence claims into the identity', async () => {
    const id = await auth.authenticate(await sign({ topics: ['chat:*', 'news'], presence: ['bob'] }));
    expect(id.grants).to.deep.equal({ topics: ['chat:*', 'news'], presence: ['bob'] });
    expect((await auth.authenticate(await sign({}))).grants).to.deep.equal({ topics: [], presence: [] });
  });

  it('refuses a token whose grant claims it cannot read (4504 naming the claim)', async () => {
    const bad: Record<string, unknown>[] = [
      { topics: 'chat:*' },
      { topics: [1] },
      { topics: [''] },
      { topics: ['a b'] },
      { topics: ['x'.repeat(17)] },
      { topics: Array.from({ length: MAX_GRANT_PATTERNS + 1 }, (_, i) => `t${i}`) },
      { presence: ['much-too-long'] },
      { presence: { bob: true } },
    ];
    for (const claims of bad) {
      const err = await refusal(auth.authenticate(await sign(claims)));
      expect(err.disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      expect(err.message).to.match(/token claim (topics|presence) must be a list/);
    }
  });

  it('verifies a subscription token and returns its user and topic', async () => {
    const token = await mintSubscriptionToken({
      userId: 'alice',
      topic: 'chat:1',
      ttlMs: 60_000,
      secret: SECRET,
      nowMs: NOW,
    });
    expect(await auth.verifySubscription(token)).to.deep.equal({
      userId: 'alice',
      topic: 'chat:1',
      expiresAtMs: (SEC + 60) * 1000,
    });
  });

  it('keeps the two kinds apart: a subscription token opens no connection, a connection token no topic', async () => {
    const sub = await mintSubscriptionToken({
      userId: 'alice',
      topic: 'chat:1',
      ttlMs: 60_000,
      secret: SECRET,
      nowMs: NOW,
    });
    expect((await refusal(auth.authenticate(sub))).message).to.match(
      /subscription token cannot authenticate/,
    );
    expect((await refusal(auth.verifySubscription(await sign({ topic: 'chat:1' })))).message).to.match(
      /not a subscription token/,
    );
  });

  it('refuses subscription tokens without topic or exp, expired, or signed with another key', async () => {
    const typ = SUBSCRIPTION_TOKEN_TYPE;
    expect((await refusal(auth.verifySubscription(await sign({ typ })))).message).to.match(/no topic/);
    const noExp = await new SignJWT({ sub: 'alice', typ, topic: 't' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key);
    expect((await refusal(auth.verifySubscription(noExp))).message).to.match(/no expiry/);
    const expired = await sign({ typ, topic: 't', exp: SEC - 3600 });
    expect((await refusal(auth.verifySubscription(expired))).disconnectCode).to.equal(
      DisconnectCode.TOKEN_EXPIRED,
    );
    const forged = await mintSubscriptionToken({
      userId: 'alice',
      topic: 't',
      ttlMs: 60_000,
      secret: 'another-secret-of-more-than-32-bytes!!',
      nowMs: NOW,
    });
    expect((await refusal(auth.verifySubscription(forged))).message).to.match(/signature/);
  });
});
