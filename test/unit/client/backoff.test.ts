import { expect } from 'chai';
import { Backoff } from '../../../client/src/backoff.js';

describe('client Backoff', function () {
  it('doubles from the initial delay up to the cap, with the jitter taken off the top', function () {
    const noJitterTop = new Backoff({ initialMs: 500, maxMs: 4000, jitter: 0.5, random: () => 1 });
    expect([1, 2, 3, 4, 5, 6].map(() => noJitterTop.next())).to.deep.equal([
      500, 1000, 2000, 4000, 4000, 4000,
    ]);
    const lowest = new Backoff({ initialMs: 500, maxMs: 4000, jitter: 0.5, random: () => 0 });
    expect([1, 2, 3].map(() => lowest.next())).to.deep.equal([250, 500, 1000]);
  });

  it('never goes below the server advice and adds jitter on top of it', function () {
    const b = new Backoff({ initialMs: 100, jitter: 0.5, random: () => 0 });
    expect(b.next(1000)).to.equal(1000);
    const top = new Backoff({ initialMs: 100, jitter: 0.5, random: () => 1 });
    expect(top.next(1000)).to.equal(1500);
    // A long backoff wins over a short advice.
    const late = new Backoff({ initialMs: 8000, jitter: 0, random: () => 0 });
    expect(late.next(1000)).to.equal(8000);
  });

  it('starts over after reset and counts attempts', function () {
    const b = new Backoff({ initialMs: 10, jitter: 0 });
    b.next();
    b.next();
    expect(b.attempts).to.equal(2);
    b.reset();
    expect(b.attempts).to.equal(0);
    expect(b.next()).to.equal(10);
  });

  it('refuses nonsense settings', function () {
    expect(() => new Backoff({ initialMs: -1 })).to.throw(RangeError, /initialMs/);
    expect(() => new Backoff({ maxMs: Number.NaN })).to.throw(RangeError, /maxMs/);
  });
});
