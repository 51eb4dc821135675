/**
 * The SessionTokenStore contract as a mocha suite, run against the memory store and the Redis store
 * (standalone and Redis Cluster). A fixture is one or more views of the same sessions (one per node:
 * the memory store has one; the Redis store gives one per node on one Redis), and a revocation made
 * through one view must be refused by every view.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { LoginSessionRecord, SessionTokenStore } from '../../src/access/session-token-store.js';

/** Fresh, empty views of one shared store. */
export interface SessionTokenStoreFixture {
  nodes: SessionTokenStore[];
  close?(): Promise<void>;
}

const HOUR = 3_600_000;

/** Registers the SessionTokenStore conformance suite for one implementation. */
export function describeSessionTokenStore(
  name: string,
  factory: () => Promise<SessionTokenStoreFixture>,
): void {
  describe(`SessionTokenStore conformance: ${name}`, () => {
    let fixture: SessionTokenStoreFixture;
    let first: SessionTokenStore;
    let last: SessionTokenStore;
    // Unique per test: fixtures may share one Redis.
    let tag: string;
    const now = Date.now();
    const record = (sessionId: string, over: Partial<LoginSessionRecord> = {}): LoginSessionRecord => ({
      sessionId: `${tag}${sessionId}`,
      userId: `${tag}ann`,
      deviceId: 'phone',
      createdAtMs: now,
      expiresAtMs: now + HOUR,
      lastSeenMs: now,
      createdBy: 'key-a',
      labels: {},
      ...over,
    });

    beforeEach(async () => {
      fixture = await factory();
      first = fixture.nodes[0]!;
      last = fixture.nodes[fixture.nodes.length - 1]!;
      tag = `t${randomBytes(3).toString('hex')}-`;
    });
    afterEach(async () => {
      for (const n of fixture.nodes) await n.close();
      await fixture.close?.();
    });

    it('saves a session and reads it back from every node; unknown ids are undefined', async () => {
      const r = record('s1', { labels: { app: 'web', 'x-y': 'ü' } });
      await first.save(r);
      expect(await last.get(r.sessionId)).to.deep.equal(r);
      expect(await last.get(`${tag}nope`)).to.equal(undefined);
      expect(await last.isRevoked(r.sessionId)).to.equal(false);
    });

    it('save replaces a session with the same id', async () => {
      await first.save(record('s1', { deviceId: 'old', labels: { a: '1' } }));
      await first.save(record('s1', { deviceId: 'new' }));
      expect(await last.get(`${tag}s1`)).to.include({ deviceId: 'new' });
      expect((await last.get(`${tag}s1`))?.labels).to.deep.equal({});
    });

    it('does not return a session whose expiry has passed', async () => {
      await first.save(record('old', { expiresAtMs: now - 1000 }));
      expect(await last.get(`${tag}old`)).to.equal(undefined);
      expect(await last.listByUser(`${tag}ann`)).to.deep.equal([]);
    });

    it("lists a user's live sessions oldest first, without revoked, expired or other users' ones", async () => {
      await first.save(record('b', { createdAtMs: now + 2 }));
      await first.save(record('a', { createdAtMs: now + 1 }));
      await first.save(record('gone', { expiresAtMs: now - 1 }));
      await first.save(record('rev'));
      await first.save(record('other', { userId: `${tag}bob` }));
      await first.revoke(`${tag}rev`, now + HOUR);
      const list = await last.listByUser(`${tag}ann`);
      expect(list.map((r) => r.sessionId)).to.deep.equal([`${tag}a`, `${tag}b`]);
      expect((await last.listByUser(`${tag}bob`)).map((r) => r.sessionId)).to.deep.equal([`${tag}other`]);
      expect(await last.listByUser(`${tag}nobody`)).to.deep.equal([]);
    });

    it('update moves expiry and last-seen forward only; unknown sessions are a no-op', async () => {
      await first.save(record('s1'));
      await first.update(`${tag}s1`, { expiresAtMs: now + 2 * HOUR, lastSeenMs: now + 5 });
      expect(await last.get(`${tag}s1`)).to.include({ expiresAtMs: now + 2 * HOUR, lastSeenMs: now + 5 });
      await last.update(`${tag}s1`, { expiresAtMs: now + HOUR, lastSeenMs: now });
      expect(await first.get(`${tag}s1`)).to.include({ expiresAtMs: now + 2 * HOUR, lastSeenMs: now + 5 });
      await last.update(`${tag}s1`, { lastSeenMs: now + 9 });
      expect(await first.get(`${tag}s1`)).to.include({ expiresAtMs: now + 2 * HOUR, lastSeenMs: now + 9 });
      await first.update(`${tag}missing`, { expiresAtMs: now + HOUR });
      expect(await last.get(`${tag}missing`)).to.equal(undefined);
    });

    it('a revocation through one node is refused by every node; revoking twice answers false', async () => {
      await first.save(record('s1'));
      expect(await last.isRevoked(`${tag}s1`)).to.equal(false);
      expect(await first.revoke(`${tag}s1`, now + HOUR)).to.equal(true);
      for (const n of fixture.nodes) expect(await n.isRevoked(`${tag}s1`)).to.equal(true);
      expect(await last.revoke(`${tag}s1`, now + HOUR)).to.equal(false);
      // Revoked sessions are still returned by get (Heartbeat reports them as REVOKED).
      expect(await last.get(`${tag}s1`)).to.include({ sessionId: `${tag}s1` });
    });

    it('revokes ids it has no session for (a token whose session record expired)', async () => {
      expect(await first.revoke(`${tag}unknown`, now + HOUR)).to.equal(true);
      expect(await last.isRevoked(`${tag}unknown`)).to.equal(true);
    });

    it('a revocation until a time already past revokes nothing', async () => {
      await first.save(record('s1'));
      await first.revoke(`${tag}s1`, now - 1000);
      expect(await last.isRevoked(`${tag}s1`)).to.equal(false);
    });

    it('a refresh does not bring a revoked session back into the list', async () => {
      await first.save(record('s1'));
      await first.revoke(`${tag}s1`, now + HOUR);
      await last.update(`${tag}s1`, { expiresAtMs: now + 3 * HOUR });
      expect(await first.listByUser(`${tag}ann`)).to.deep.equal([]);
      expect(await first.isRevoked(`${tag}s1`)).to.equal(true);
    });

    it('counts active sessions: live and not revoked', async () => {
      const before = await last.activeCount();
      await first.save(record('a'));
      await first.save(record('b'));
      await first.save(record('c', { expiresAtMs: now - 1 }));
      expect(await last.activeCount()).to.equal(before + 2);
      await first.revoke(`${tag}a`, now + HOUR);
      expect(await last.activeCount()).to.equal(before + 1);
    });

    it('takes ids with braces, percent signs and non-ASCII characters', async () => {
      const r = record('{x}%y', { userId: `${tag}{u}ser%ü` });
      await first.save(r);
      expect(await last.get(r.sessionId)).to.deep.equal(r);
      expect((await last.listByUser(r.userId)).map((x) => x.sessionId)).to.deep.equal([r.sessionId]);
      expect(await first.revoke(r.sessionId, now + HOUR)).to.equal(true);
      expect(await last.isRevoked(r.sessionId)).to.equal(true);
    });
  });
}
