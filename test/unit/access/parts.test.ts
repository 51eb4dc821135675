import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { CallerAuth } from '../../../src/access/caller-auth.js';
import type { AccessClient } from '../../../src/access/client.js';
import { matches } from '../../../src/access/presence-view.js';
import { parseFilter } from '../../../src/access/presence-stream.js';
import { RemoteAuthenticator } from '../../../src/access/remote-authenticator.js';
import { MemorySessionTokenStore } from '../../../src/access/session-token-store.js';
import { decodeStatusDetails, mapError, toServiceError } from '../../../src/access/status-mapping.js';
import {
  AuthError,
  BusUnavailableError,
  ConfigError,
  DisconnectCode,
  GatewayError,
  PresenceUnavailableError,
  ReplyCode,
  RequestError,
  StoreError,
} from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';

describe('access parts', () => {
  describe('status mapping', () => {
    it('maps every reply code and error kind to a gRPC status; anything else is INTERNAL', () => {
      const S = grpc.status;
      const table: [unknown, grpc.status][] = [
        [new RequestError(ReplyCode.BAD_REQUEST, 'x'), S.INVALID_ARGUMENT],
        [new RequestError(ReplyCode.NOT_FOUND, 'x'), S.NOT_FOUND],
        [new RequestError(ReplyCode.PERMISSION_DENIED, 'x'), S.PERMISSION_DENIED],
        [new RequestError(ReplyCode.RATE_LIMITED, 'x'), S.RESOURCE_EXHAUSTED],
        [new RequestError(ReplyCode.PAYLOAD_TOO_LARGE, 'x'), S.INVALID_ARGUMENT],
        [new RequestError(ReplyCode.ALREADY_AUTHENTICATED, 'x'), S.FAILED_PRECONDITION],
        [new RequestError(ReplyCode.UNAVAILABLE, 'x'), S.UNAVAILABLE],
        [new RequestError(ReplyCode.LIMIT_EXCEEDED, 'x'), S.RESOURCE_EXHAUSTED],
        [new RequestError(ReplyCode.BUSY, 'x'), S.UNAVAILABLE],
        [new RequestError(ReplyCode.INTERNAL, 'x'), S.INTERNAL],
        [new AuthError('x'), S.UNAUTHENTICATED],
        [new StoreError('x'), S.UNAVAILABLE],
        [new BusUnavailableError('x'), S.UNAVAILABLE],
        [new PresenceUnavailableError('x'), S.UNAVAILABLE],
        [new ConfigError('x'), S.FAILED_PRECONDITION],
        [new GatewayError('FERRY_ERR_X', 'x'), S.INTERNAL],
        [new Error('secret internals'), S.INTERNAL],
        ['a string', S.INTERNAL],
      ];
      for (const [err, code] of table) expect(mapError(err).code, String(err)).to.equal(code);
      expect(mapError(new Error('secret internals')).details).to.equal('internal error');
    });

    it("never shows a store, bus or presence failure's own text (it names Redis and its nodes)", () => {
      const cases: [Error, string, string][] = [
        [
          new BusUnavailableError('redis bus: the recipient node has no inbox'),
          'bus unavailable',
          'FERRY_ERR_REQUEST_UNAVAILABLE',
        ],
        [
          new PresenceUnavailableError('redis presence: closed'),
          'presence unavailable',
          'FERRY_ERR_REQUEST_UNAVAILABLE',
        ],
        [
          new StoreError('redis message store unavailable: ECONNREFUSED'),
          'store unavailable',
          'FERRY_ERR_STORE',
        ],
      ];
      for (const [err, details, reason] of cases) {
        expect(mapError(err), err.message).to.deep.include({
          code: grpc.status.UNAVAILABLE,
          details,
          reason,
        });
        expect(mapError(err).retryAfterMs).to.equal(1000);
      }
    });

    it('puts ErrorInfo and RetryInfo in grpc-status-details-bin', () => {
      const e = toServiceError(
        new RequestError(ReplyCode.UNAVAILABLE, 'down', { retryable: true, retryAfterMs: 1500 }),
      );
      const bin = e.metadata!.get('grpc-status-details-bin')[0] as Buffer;
      const d = decodeStatusDetails(bin);
      expect(d).to.deep.include({ code: grpc.status.UNAVAILABLE, message: 'down', retryDelayMs: 1500 });
      expect(d.errorInfo).to.deep.equal({
        reason: 'FERRY_ERR_REQUEST_UNAVAILABLE',
        domain: 'ferry',
        metadata: { replyCode: '107' },
      });
      const auth = decodeStatusDetails(
        toServiceError(new AuthError('no')).metadata!.get('grpc-status-details-bin')[0] as Buffer,
      );
      expect(auth.retryDelayMs).to.equal(undefined);
      expect(auth.errorInfo?.metadata).to.deep.equal({ disconnectCode: String(DisconnectCode.AUTH_FAILED) });
    });
  });

  describe('CallerAuth', () => {
    const auth = new CallerAuth({ crm: 'crm-key-0123456789abcdef', bot: 'bot-key-0123456789abcdef' });
    const call = (md: Record<string, string>, cert?: object) => {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(md)) metadata.set(k, v);
      return { metadata, getAuthContext: () => (cert ? { sslPeerCertificate: cert as never } : {}) };
    };

    it('names the caller by x-api-key or Bearer token', () => {
      expect(auth.identify(call({ 'x-api-key': 'bot-key-0123456789abcdef' }))).to.deep.equal({ name: 'bot' });
      expect(auth.identify(call({ authorization: 'Bearer crm-key-0123456789abcdef' }))).to.deep.equal({
        name: 'crm',
      });
    });

    it('refuses missing, wrong and oversized keys', () => {
      for (const md of [
        {},
        { 'x-api-key': 'nope' },
        { authorization: 'Basic abc' },
        { 'x-api-key': 'k'.repeat(2000) },
      ] as Record<string, string>[])
        expect(() => auth.identify(call(md)), JSON.stringify(md).slice(0, 40)).to.throw(AuthError);
    });

    it('names an mTLS caller by its certificate subject', () => {
      expect(auth.identify(call({}, { subject: { CN: 'billing' } }))).to.deep.equal({ name: 'cert:billing' });
    });
  });

  describe('MemorySessionTokenStore', () => {
    it('forgets sessions and revocations once they expire', async () => {
      const clock = { now: 1000 };
      const s = new MemorySessionTokenStore({ now: () => clock.now });
      const rec = {
        sessionId: 's1',
        userId: 'u',
        deviceId: 'd',
        createdAtMs: 1000,
        expiresAtMs: 5000,
        lastSeenMs: 1000,
        createdBy: 'k',
        labels: {},
      };
      await s.save(rec);
      expect(await s.listByUser('u')).to.have.length(1);
      expect(await s.revoke('s1', 5000)).to.equal(true);
      expect(await s.revoke('s1', 5000)).to.equal(false);
      expect(await s.isRevoked('s1')).to.equal(true);
      expect(await s.listByUser('u')).to.deep.equal([]);
      expect(await s.activeCount()).to.equal(0);
      await s.update('s1', { lastSeenMs: 2000, expiresAtMs: 4000 });
      expect((await s.get('s1'))?.expiresAtMs).to.equal(5000);
      clock.now = 5000;
      expect(await s.isRevoked('s1')).to.equal(false);
      expect(await s.get('s1')).to.equal(undefined);
      s.sweep();
      expect(await s.listByUser('u')).to.deep.equal([]);
      await s.close();
    });
  });

  describe('RemoteAuthenticator', () => {
    function fakeClient(answer: () => Record<string, unknown> | Error): AccessClient & { calls: number } {
      const c = {
        calls: 0,
        ValidateToken(
          _req: unknown,
          _md: unknown,
          _opts: unknown,
          cb: (e: Error | null, r?: unknown) => void,
        ) {
          c.calls++;
          const a = answer();
          if (a instanceof Error) cb(a);
          else cb(null, a);
        },
      };
      return c as unknown as AccessClient & { calls: number };
    }

    it('caches accepted tokens for the cache TTL, never past their expiry', async () => {
      const clock = { now: 0 };
      const client = fakeClient(() => ({ valid: true, userId: 'u', deviceId: 'd', expiresAtMs: 50_000 }));
      const a = new RemoteAuthenticator({
        client,
        cacheTtlMs: 30_000,
        logger: silentLogger(),
        now: () => clock.now,
      });
      expect(await a.authenticate('tok')).to.include({ userId: 'u', deviceId: 'd' });
      await a.authenticate('tok');
      expect(client.calls).to.equal(1);
      clock.now = 30_001;
      await a.authenticate('tok');
      expect(client.calls).to.equal(2);
      clock.now = 50_001;
      await a.authenticate('tok');
      expect(client.calls).to.equal(3);
    });

    it('passes the access service refusal on, and refuses with 4010 when it is unreachable', async () => {
      let answer: Record<string, unknown> | Error = {
        valid: false,
        disconnectCode: 4009,
        reason: 'token expired',
      };
      const a = new RemoteAuthenticator({
        client: fakeClient(() => answer),
        cacheTtlMs: 0,
        logger: silentLogger(),
      });
      const refused = await a.authenticate('t').catch((e: AuthError) => e);
      expect(refused)
        .to.be.instanceOf(AuthError)
        .and.include({ disconnectCode: 4009, message: 'token expired' });
      answer = Object.assign(new Error('14 UNAVAILABLE'), { code: grpc.status.UNAVAILABLE });
      const down = await a.authenticate('t').catch((e: AuthError) => e);
      expect(down)
        .to.be.instanceOf(AuthError)
        .and.include({ disconnectCode: DisconnectCode.AUTH_UNAVAILABLE });
      for (const bad of ['', 'x'.repeat(9000)])
        expect(await a.authenticate(bad).catch((e: AuthError) => e.disconnectCode)).to.equal(
          DisconnectCode.AUTH_FAILED,
        );
    });
  });

  describe('WatchPresence filter', () => {
    const entry = {
      userId: 'u1',
      deviceId: 'd',
      sessionId: 's',
      nodeId: 'n1',
      transport: 'ws' as const,
      sinceMs: 0,
    };
    it('filters by user, node and kind; empty lists match everything', () => {
      const any = parseFilter({}, 64);
      expect(matches(any, { kind: 'online', entry })).to.equal(true);
      const f = parseFilter({ userIds: ['u1'], nodeIds: ['n2'], kind: 'PRESENCE_EVENT_KIND_ONLINE' }, 64);
      expect(matches(f, { kind: 'online', entry })).to.equal(false);
      expect(matches(f, { kind: 'online', entry: { ...entry, nodeId: 'n2' } })).to.equal(true);
      expect(matches(f, { kind: 'offline', entry: { ...entry, nodeId: 'n2' } })).to.equal(false);
      expect(() => parseFilter({ kind: 'SOMETHING' }, 64)).to.throw(RequestError);
      expect(() => parseFilter({ userIds: [''] }, 64)).to.throw(RequestError);
    });
  });
});
