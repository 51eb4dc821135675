import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  allErrorCodes,
  AuthError,
  DisconnectCode,
  disconnectCodeName,
  GatewayError,
  ProtocolError,
  ReplyCode,
  replyCodeName,
  RequestError,
  shouldReconnect,
} from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
/** Table rows of docs/protocol.md, split into trimmed cells (fastify-style documentation check). */
const rows = doc
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim().replace(/`/g, '')),
  );

function rowFor(code: number): string[] | undefined {
  return rows.find((cells) => cells[0] === String(code));
}

describe('errors', () => {
  describe('documentation (docs/protocol.md)', () => {
    for (const [name, code] of Object.entries(DisconnectCode)) {
      it(`documents disconnect ${code} ${name} in a table row with its symbolic code`, () => {
        const row = rowFor(code);
        expect(row, `no table row starts with ${code}`).to.not.equal(undefined);
        expect(row).to.include(name);
        expect(row).to.include(`FERRY_ERR_PROTOCOL_${name}`);
        expect(row).to.include(shouldReconnect(code) ? 'yes' : 'no');
      });
    }

    for (const [name, code] of Object.entries(ReplyCode)) {
      it(`documents reply error ${code} ${name} in a table row with its symbolic code`, () => {
        const row = rowFor(code);
        expect(row, `no table row starts with ${code}`).to.not.equal(undefined);
        expect(row).to.include(name);
        expect(row).to.include(`FERRY_ERR_REQUEST_${name}`);
      });
    }

    it('documents every FERRY_ERR_* code that allErrorCodes() lists', () => {
      const missing = allErrorCodes().filter((code) => !rows.some((cells) => cells.includes(code)));
      expect(missing).to.deep.equal([]);
    });

    it('documents no FERRY_ERR_* code that does not exist', () => {
      const known = new Set(allErrorCodes());
      const mentioned = new Set(doc.match(/FERRY_ERR_[A-Z_]+/g) ?? []);
      expect([...mentioned].filter((code) => !known.has(code))).to.deep.equal([]);
    });

    it('documents the WebSocket layer close code 1009', () => {
      expect(doc).to.match(/\*\*1009\*\* Message Too Big/);
    });
  });

  describe('code catalogue', () => {
    it('keeps reply codes in 100-999 and disconnect codes in 4000-4999, all distinct', () => {
      const reply = Object.values(ReplyCode);
      const disconnect = Object.values(DisconnectCode);
      expect(reply.every((c) => c >= 100 && c <= 999)).to.equal(true);
      expect(disconnect.every((c) => c >= 4000 && c <= 4999)).to.equal(true);
      expect(new Set([...reply, ...disconnect]).size).to.equal(reply.length + disconnect.length);
    });

    it('lists each symbolic code once', () => {
      const codes = allErrorCodes();
      expect(new Set(codes).size).to.equal(codes.length);
      expect(codes.every((c) => /^FERRY_ERR_[A-Z_]+$/.test(c))).to.equal(true);
    });

    it('names codes both ways', () => {
      for (const [name, code] of Object.entries(DisconnectCode))
        expect(disconnectCodeName(code)).to.equal(name);
      for (const [name, code] of Object.entries(ReplyCode)) expect(replyCodeName(code)).to.equal(name);
      expect(disconnectCodeName(4999)).to.equal('UNKNOWN');
      expect(replyCodeName(999)).to.equal('UNKNOWN');
    });
  });

  describe('shouldReconnect', () => {
    it('is true exactly for 4000-4499', () => {
      for (const code of [4000, 4001, 4009, 4250, 4499])
        expect(shouldReconnect(code), String(code)).to.equal(true);
      for (const code of [0, 1000, 1006, 1009, 3999, 4500, 4505, 4999, 5000, Number.NaN]) {
        expect(shouldReconnect(code), String(code)).to.equal(false);
      }
    });

    it('agrees with the catalogue: every code below 4500 reconnects, every other does not', () => {
      for (const code of Object.values(DisconnectCode)) expect(shouldReconnect(code)).to.equal(code < 4500);
      expect(shouldReconnect(DisconnectCode.TOKEN_EXPIRED)).to.equal(true);
      expect(shouldReconnect(DisconnectCode.AUTH_FAILED)).to.equal(false);
    });
  });

  describe('error classes', () => {
    it('ProtocolError carries its disconnect code and a FERRY_ERR_PROTOCOL_* code', () => {
      const cause = new RangeError('x');
      const err = new ProtocolError(DisconnectCode.FRAME_TOO_LARGE, 'too big', { cause });
      expect(err).to.be.instanceOf(GatewayError);
      expect(err.disconnectCode).to.equal(4501);
      expect(err.code).to.equal('FERRY_ERR_PROTOCOL_FRAME_TOO_LARGE');
      expect(err.name).to.equal('ProtocolError');
      expect(err.cause).to.equal(cause);
    });

    it('RequestError carries its reply code and retry advice, defaulting to not retryable', () => {
      const plain = new RequestError(ReplyCode.BAD_REQUEST, 'bad');
      expect([plain.replyCode, plain.retryable, plain.retryAfterMs]).to.deep.equal([101, false, 0]);
      expect(plain.code).to.equal('FERRY_ERR_REQUEST_BAD_REQUEST');
      const limited = new RequestError(ReplyCode.RATE_LIMITED, 'slow', {
        retryable: true,
        retryAfterMs: 250,
      });
      expect([limited.retryable, limited.retryAfterMs]).to.deep.equal([true, 250]);
    });

    it('AuthError defaults to AUTH_FAILED and can carry TOKEN_EXPIRED', () => {
      expect(new AuthError('bad').disconnectCode).to.equal(DisconnectCode.AUTH_FAILED);
      expect(new AuthError('old', DisconnectCode.TOKEN_EXPIRED).disconnectCode).to.equal(4009);
      expect(new AuthError('bad').code).to.equal('FERRY_ERR_AUTH');
    });
  });
});
