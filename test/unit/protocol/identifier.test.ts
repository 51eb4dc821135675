import { expect } from 'chai';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { AuthError, ReplyCode, RequestError } from '../../../src/errors.js';
import { Frame } from '../../../src/protocol/codec.js';
import {
  FORBIDDEN_IDENTIFIER_RANGES,
  identifierProblem,
  ReservedUserIds,
} from '../../../src/protocol/identifier.js';
import { validateClientFrame } from '../../../src/protocol/validate.js';
import { makeHarness, SECRET, type Harness } from '../access/harness.js';

/** The harness's access service and JWT check run with this limit; the validator gets the same. */
const MAX = 64;
const LIMITS = { maxUserIdLength: MAX, maxTopicLength: 64, maxPayloadBytes: 1024 };

/**
 * The rule written down independently of identifier.ts, from the runtime's own Unicode data: what
 * docs/protocol.md §5.9 says a valid identifier is.
 */
function isValidReference(s: string, maxBytes: number): boolean {
  return (
    s.length > 0 &&
    Buffer.byteLength(s, 'utf8') <= maxBytes &&
    !/\p{Cs}/u.test(s) && // a lone surrogate (a paired one is a single astral code point)
    !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s)
  );
}

/** Strings that hit every branch: ASCII, multi-byte, astral, controls, format characters, halves of pairs. */
const PIECES = [
  'a',
  'Z',
  ' ',
  '$',
  'é',
  '中',
  '😀',
  '\u0000',
  '\t',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u202e',
  '\u2028',
  '\u2029',
  '\u2066',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udc00',
  '\u{e0041}',
  '\u{1d173}',
  'system',
];
const idArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: 'binary', maxLength: 3 })), {
      maxLength: 30,
    })
    .map((parts) => parts.join('')),
  // Around the byte limit, in 1-, 2-, 3- and 4-byte characters.
  fc
    .tuple(fc.constantFrom('u', 'é', '中', '😀'), fc.integer({ min: 10, max: 70 }))
    .map(([c, n]) => c.repeat(n)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

describe('protocol/identifier', () => {
  describe('identifierProblem', () => {
    it('accepts ids of any other Unicode within the byte limit', () => {
      for (const id of ['alice', 'Zoë Smith', '中'.repeat(42), 'smile 😀', 'a-b_c.d@e', '$'])
        expect(identifierProblem(id, 128), id).to.equal(null);
    });

    it('refuses, naming the rule and the code point', () => {
      expect(identifierProblem('', 128)).to.equal('is empty');
      expect(identifierProblem('u'.repeat(129), 128)).to.equal('is longer than 128 bytes (UTF-8)');
      expect(identifierProblem('中'.repeat(43), 128)).to.equal('is longer than 128 bytes (UTF-8)');
      expect(identifierProblem('a\u0085', 128)).to.equal('contains U+0085 (a control character)');
      expect(identifierProblem('a\u202eb', 128)).to.equal('contains U+202E (a format character)');
      expect(identifierProblem('a\u2029', 128)).to.equal('contains U+2029 (a line or paragraph separator)');
      expect(identifierProblem('a\udc00', 128)).to.equal(
        'contains U+DC00 (a lone surrogate: not well-formed UTF-16)',
      );
      expect(identifierProblem('tag\u{e0041}', 128)).to.equal('contains U+E0041 (a format character)');
    });

    it('forbids exactly Cc, Cf, Zl and Zp of the runtime Unicode data (the table is not stale)', () => {
      const category = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
      const inTable = (cp: number): boolean =>
        FORBIDDEN_IDENTIFIER_RANGES.some(([a, b]) => cp >= a && cp <= b);
      const differ: string[] = [];
      for (let cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        if (category.test(String.fromCodePoint(cp)) !== inTable(cp)) differ.push(cp.toString(16));
      }
      expect(differ, 'code points where the table and the runtime disagree').to.deep.equal([]);
    });

    it('agrees with the reference rule on arbitrary strings (property)', () => {
      fc.assert(
        fc.property(idArb, fc.integer({ min: 1, max: 80 }), (s, max) => {
          expect(identifierProblem(s, max) === null, JSON.stringify(s)).to.equal(isValidReference(s, max));
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('ReservedUserIds', () => {
    it('reserves every $-prefixed id and the configured list, nothing else', () => {
      const r = new ReservedUserIds(['system']);
      expect(r.has('system')).to.equal(true);
      expect(r.has('$anything')).to.equal(true);
      expect(r.has('$')).to.equal(true);
      expect(r.has('System')).to.equal(false);
      expect(r.has('a$')).to.equal(false);
      expect(r.problem('system')).to.equal('is reserved for the server (auth.reservedUserIds)');
      expect(r.problem('$x')).to.equal('is reserved for the server (ids starting with "$")');
      expect(r.problem('alice')).to.equal(null);
      expect(new ReservedUserIds([]).has('system')).to.equal(false);
    });
  });

  describe('the token check, the protocol validator and the access API agree (property)', () => {
    let h: Harness;
    before(async () => {
      h = await makeHarness();
    });
    after(() => h.close());
    const reserved = new ReservedUserIds(['system']);

    const token = (claims: Record<string, unknown>): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setExpirationTime(Math.floor(h.clock.now / 1000) + 3600)
        .sign(new TextEncoder().encode(SECRET));

    async function accepted(p: Promise<unknown>, refusal: new (...args: never[]) => Error): Promise<boolean> {
      try {
        await p;
        return true;
      } catch (err) {
        expect(err).to.be.instanceOf(refusal);
        return false;
      }
    }

    function validatorAccepts(body: 'send' | 'deviceId', s: string): boolean {
      const frame =
        body === 'send'
          ? Frame.create({ send: { toUser: s } })
          : Frame.create({ authenticate: { token: 't', deviceId: s } });
      try {
        validateClientFrame(frame, LIMITS);
        return true;
      } catch (err) {
        expect(err).to.be.instanceOf(RequestError);
        expect((err as RequestError).replyCode).to.equal(ReplyCode.BAD_REQUEST);
        return false;
      }
    }

    it('user ids: JWT sub, Send.to_user and PresenceQuery, Login and GetPresence', async () => {
      await fc.assert(
        fc.asyncProperty(idArb, async (s) => {
          const valid = isValidReference(s, MAX);
          const clientMayBe = valid && !reserved.has(s);
          const what = JSON.stringify(s);
          expect(
            await accepted(h.authenticator.authenticate(await token({ sub: s })), AuthError),
            `sub ${what}`,
          ).to.equal(clientMayBe);
          expect(validatorAccepts('send', s), `send.to_user ${what}`).to.equal(valid);
          const query = Frame.create({ presenceQuery: { userIds: [s] } });
          expect(
            await accepted(
              Promise.resolve().then(() => validateClientFrame(query, LIMITS)),
              RequestError,
            ),
            `presence_query ${what}`,
          ).to.equal(valid);
          const login = h.service.login({ name: 'crm' }, { credential: 'userId', userId: s, deviceId: 'd' });
          expect(await accepted(login, RequestError), `Login.user_id ${what}`).to.equal(clientMayBe);
          expect(
            await accepted(h.service.getPresence({ name: 'crm' }, { userIds: [s] }), RequestError),
            `GetPresence ${what}`,
          ).to.equal(valid);
        }),
        { numRuns: 300 },
      );
    });

    it('device ids: JWT did, Authenticate.device_id and Login.device_id', async () => {
      // '' is excluded: an empty device_id or Login.device_id means "not given" (documented), not an id.
      await fc.assert(
        fc.asyncProperty(
          idArb.filter((s) => s !== ''),
          async (s) => {
            const valid = isValidReference(s, MAX);
            const what = JSON.stringify(s);
            expect(
              await accepted(h.authenticator.authenticate(await token({ sub: 'u', did: s })), AuthError),
              `did ${what}`,
            ).to.equal(valid);
            expect(validatorAccepts('deviceId', s), `authenticate.device_id ${what}`).to.equal(valid);
            const login = h.service.login(
              { name: 'crm' },
              { credential: 'userId', userId: 'u', deviceId: s },
            );
            expect(await accepted(login, RequestError), `Login.device_id ${what}`).to.equal(valid);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
