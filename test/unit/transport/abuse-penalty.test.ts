import { expect } from 'chai';
import { AbusePenalty } from '../../../src/transport/abuse-penalty.js';

const SETTINGS = { threshold: 5, windowMs: 10_000, firstBanMs: 1000, maxBanMs: 8000 };

describe('abuse penalty', () => {
  it('bans an address once its abusive closes pass the threshold within the window', () => {
    const p = new AbusePenalty(SETTINGS);
    for (let i = 0; i < 5; i++) expect(p.penalize('a', 1000)).to.equal(0);
    expect(p.bannedFor('a', 1000)).to.equal(0);
    expect(p.penalize('a', 1000)).to.equal(1000);
    expect(p.bannedFor('a', 1500)).to.equal(500);
    expect(p.bannedFor('a', 2000)).to.equal(0);
    expect(p.bannedFor('b', 1500)).to.equal(0);
  });

  it('drains the score over the window, so a slow trickle never bans', () => {
    const p = new AbusePenalty(SETTINGS);
    // One close every 2 s drains as fast as it fills (5 per 10 s).
    for (let t = 0; t < 100_000; t += 2000) expect(p.penalize('a', t)).to.equal(0);
  });

  it('doubles bans that follow each other, up to the maximum, and starts over after a quiet spell', () => {
    const p = new AbusePenalty(SETTINGS);
    const bans: number[] = [];
    let t = 0;
    for (let round = 0; round < 5; round++) {
      let ban = 0;
      while (ban === 0) ban = p.penalize('a', t);
      bans.push(ban);
      t += ban; // the address comes back as soon as it may
    }
    expect(bans).to.deep.equal([1000, 2000, 4000, 8000, 8000]);
    t += 8000 + 10_000; // longer than the longest ban since the last one ended, and drained
    let ban = 0;
    while (ban === 0) ban = p.penalize('a', t);
    expect(ban).to.equal(1000);
  });

  it('never bans with threshold 0, and forgets drained addresses when the table grows', () => {
    const off = new AbusePenalty({ ...SETTINGS, threshold: 0 });
    for (let i = 0; i < 100; i++) expect(off.penalize('a', 0)).to.equal(0);
    expect(off.size).to.equal(0);
    const p = new AbusePenalty(SETTINGS);
    for (let i = 0; i < 10_000; i++) p.penalize(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(p.size).to.equal(10_000);
    p.penalize('late', 100_000);
    expect(p.size).to.equal(1);
  });
});
