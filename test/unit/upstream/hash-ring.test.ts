import { expect } from 'chai';
import fc from 'fast-check';
import { hash32, HashRing } from '../../../src/upstream/hash-ring.js';

const KEYS = Array.from({ length: 4000 }, (_, i) => `user-${i}`);

function owners(ring: HashRing): Map<string, string> {
  return new Map(KEYS.map((k) => [k, ring.lookup(k)!]));
}

describe('upstream/hash-ring', () => {
  it('is empty-safe and deterministic', () => {
    const r = new HashRing();
    expect(r.lookup('x')).to.equal(undefined);
    r.add('a');
    r.add('a');
    expect(r.size).to.equal(1);
    expect(r.lookup('x')).to.equal('a');
    const r2 = new HashRing();
    for (const m of ['b', 'a', 'c']) r2.add(m);
    const r3 = new HashRing();
    for (const m of ['c', 'b', 'a']) r3.add(m);
    for (const k of KEYS.slice(0, 200)) expect(r2.lookup(k)).to.equal(r3.lookup(k));
    expect(hash32('abc')).to.equal(hash32('abc'));
  });

  it('spreads keys roughly evenly over members', () => {
    const r = new HashRing();
    for (const m of ['i-1', 'i-2', 'i-3', 'i-4']) r.add(m);
    const counts = new Map<string, number>();
    for (const o of owners(r).values()) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const c of counts.values()) expect(c).to.be.within(KEYS.length / 4 / 1.4, (KEYS.length / 4) * 1.4);
  });

  it('property: a join moves only keys to the new member, about 1/n of them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.string({ minLength: 1, maxLength: 8 }), (n, salt) => {
        const r = new HashRing();
        for (let i = 0; i < n; i++) r.add(`${salt}-${i}`);
        const before = owners(r);
        r.add(`${salt}-new`);
        const after = owners(r);
        let moved = 0;
        for (const k of KEYS) {
          if (before.get(k) === after.get(k)) continue;
          moved++;
          expect(after.get(k)).to.equal(`${salt}-new`);
        }
        const expected = KEYS.length / (n + 1);
        expect(moved).to.be.within(expected / 2, expected * 1.6);
      }),
      { numRuns: 25 },
    );
  });

  it('property: a leave moves only the leaver keys', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.nat(7), (n, pick) => {
        const r = new HashRing();
        for (let i = 0; i < n; i++) r.add(`m-${i}`);
        const before = owners(r);
        const gone = `m-${pick % n}`;
        r.remove(gone);
        const after = owners(r);
        for (const k of KEYS) {
          if (before.get(k) !== gone) expect(after.get(k)).to.equal(before.get(k));
          else expect(after.get(k)).to.not.equal(gone);
        }
      }),
      { numRuns: 25 },
    );
  });
});
