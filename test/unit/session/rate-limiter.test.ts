import { expect } from 'chai';
import { RATE_FLOOD, RATE_LIMITED, RATE_OK, RateLimiter } from '../../../src/session/rate-limiter.js';

describe('RateLimiter', () => {
  const T0 = 1_000_000;

  it('allows a burst of twice the per-second rate, then refuses', () => {
    const r = new RateLimiter({ framesPerSecond: 10, bytesPerSecond: 0, floodToleranceSeconds: 3 }, T0);
    for (let i = 0; i < 20; i++) expect(r.take(1, T0, false)).to.equal(RATE_OK);
    expect(r.take(1, T0, false)).to.equal(RATE_LIMITED);
  });

  it('refills continuously with time', () => {
    const r = new RateLimiter({ framesPerSecond: 10, bytesPerSecond: 0, floodToleranceSeconds: 3 }, T0);
    for (let i = 0; i < 20; i++) r.take(1, T0, false);
    expect(r.take(1, T0 + 50, false)).to.equal(RATE_LIMITED); // half a token
    expect(r.take(1, T0 + 100, false)).to.equal(RATE_OK); // one token
    expect(r.take(1, T0 + 100, false)).to.equal(RATE_LIMITED);
  });

  it('limits bytes per second independently, and says when to retry', () => {
    const r = new RateLimiter({ framesPerSecond: 0, bytesPerSecond: 1000, floodToleranceSeconds: 3 }, T0);
    expect(r.take(1500, T0, false)).to.equal(RATE_OK);
    expect(r.take(600, T0, false)).to.equal(RATE_LIMITED); // 500 left
    expect(r.retryAfterMs(600)).to.equal(100);
    expect(r.take(600, T0 + 100, false)).to.equal(RATE_OK);
  });

  it('charges exempt frames but never refuses them', () => {
    const r = new RateLimiter({ framesPerSecond: 1, bytesPerSecond: 0, floodToleranceSeconds: 3 }, T0);
    for (let i = 0; i < 10; i++) expect(r.take(1, T0, true)).to.equal(RATE_OK);
    expect(r.take(1, T0, false)).to.equal(RATE_LIMITED);
  });

  it('reports a flood once refusals have lasted floodToleranceSeconds without a one-second gap', () => {
    const r = new RateLimiter({ framesPerSecond: 1, bytesPerSecond: 0, floodToleranceSeconds: 3 }, T0);
    r.take(1, T0, false);
    r.take(1, T0, false);
    let t = T0;
    expect(r.take(1, t, false)).to.equal(RATE_LIMITED);
    for (; t < T0 + 3000; t += 500) {
      r.take(1, t, false); // keep it empty
      expect(r.take(1, t, false)).to.equal(RATE_LIMITED);
    }
    r.take(1, t, false); // the token refilled by now
    expect(r.take(1, t, false)).to.equal(RATE_FLOOD);
  });

  it('starts a new streak after more than a second without a refusal', () => {
    const r = new RateLimiter({ framesPerSecond: 1, bytesPerSecond: 0, floodToleranceSeconds: 2 }, T0);
    r.take(1, T0, false);
    r.take(1, T0, false);
    expect(r.take(1, T0, false)).to.equal(RATE_LIMITED); // streak starts at T0
    expect(r.take(1, T0 + 900, false)).to.equal(RATE_LIMITED);
    // 1.2 s without a refusal: the bucket refilled, and the old streak lapses.
    expect(r.take(1, T0 + 2100, false)).to.equal(RATE_OK);
    expect(r.take(1, T0 + 2100, false)).to.equal(RATE_OK);
    expect(r.take(1, T0 + 2100, false)).to.equal(RATE_LIMITED); // new streak
    expect(r.take(1, T0 + 3000, false)).to.equal(RATE_LIMITED); // would be a flood counted from T0
    expect(r.take(1, T0 + 4000, false)).to.equal(RATE_OK);
    expect(r.take(1, T0 + 4000, false)).to.equal(RATE_LIMITED);
    expect(r.take(1, T0 + 4200, false)).to.equal(RATE_OK);
    expect(r.take(1, T0 + 4200, false)).to.equal(RATE_FLOOD); // 2.1 s into the new streak
  });
});
