import { expect } from 'chai';
import {
  RATE_FLOOD,
  RATE_LIMITED,
  RATE_OK,
  RateLimiter,
  type RateLimits,
} from '../../../src/session/rate-limiter.js';

const T0 = 1_000_000;
const REQUEST = 1;
const CONTROL = 0.25;

function limiter(l: Partial<RateLimits>): RateLimiter {
  return new RateLimiter(
    { framesPerSecond: 0, bytesPerSecond: 0, floodToleranceSeconds: 3, controlFrameCost: CONTROL, ...l },
    T0,
  );
}

describe('RateLimiter', () => {
  it('allows a burst of twice the per-second rate, then refuses', () => {
    const r = limiter({ framesPerSecond: 10 });
    for (let i = 0; i < 20; i++) expect(r.take(1, REQUEST, T0)).to.equal(RATE_OK);
    expect(r.take(1, REQUEST, T0)).to.equal(RATE_LIMITED);
    expect([r.passed, r.overLimit]).to.deep.equal([20, 1]);
  });

  it('refills continuously with time', () => {
    const r = limiter({ framesPerSecond: 10 });
    for (let i = 0; i < 20; i++) r.take(1, REQUEST, T0);
    expect(r.take(1, REQUEST, T0 + 50)).to.equal(RATE_LIMITED); // half a token
    expect(r.take(1, REQUEST, T0 + 100)).to.equal(RATE_OK); // one token
    expect(r.take(1, REQUEST, T0 + 100)).to.equal(RATE_LIMITED);
  });

  it('limits bytes per second independently, and says how long to wait', () => {
    const r = limiter({ bytesPerSecond: 1000 });
    expect(r.take(1500, REQUEST, T0)).to.equal(RATE_OK);
    expect(r.take(600, REQUEST, T0)).to.equal(RATE_LIMITED); // 500 left
    expect(r.waitMs(600, REQUEST)).to.equal(100);
    expect(r.take(600, REQUEST, T0 + 100)).to.equal(RATE_OK);
  });

  it('charges every frame kind: a control frame costs its share of a frame token, never nothing', () => {
    const r = limiter({ framesPerSecond: 10 });
    // A burst of 20 tokens is 80 Pings, Pongs or Acks at a quarter each ...
    for (let i = 0; i < 80; i++) expect(r.take(6, CONTROL, T0), `control frame ${i}`).to.equal(RATE_OK);
    // ... and then neither a control frame nor a request fits.
    expect(r.take(6, CONTROL, T0)).to.equal(RATE_LIMITED);
    expect(r.take(6, REQUEST, T0)).to.equal(RATE_LIMITED);
    // A quarter token is back after 25 ms: a control frame fits, a request does not yet.
    expect(r.waitMs(6, CONTROL)).to.equal(25);
    expect(r.take(6, REQUEST, T0 + 25)).to.equal(RATE_LIMITED);
    expect(r.take(6, CONTROL, T0 + 25)).to.equal(RATE_OK);
  });

  it('charges the bytes of a padded Ping in full, whatever its frame cost', () => {
    const r = limiter({ framesPerSecond: 1000, bytesPerSecond: 64 * 1024 });
    const padded = 60 * 1024;
    expect(r.take(padded, CONTROL, T0)).to.equal(RATE_OK);
    expect(r.take(padded, CONTROL, T0)).to.equal(RATE_OK);
    expect(r.take(padded, CONTROL, T0)).to.equal(RATE_LIMITED); // 8 KiB of the 128 KiB burst left
    expect(r.waitMs(padded, CONTROL)).to.equal(Math.ceil(((padded - 8 * 1024) / (64 * 1024)) * 1000));
  });

  it('cuts a flood of control frames like any other: over the limit for the tolerance is RATE_FLOOD', () => {
    const r = limiter({ framesPerSecond: 4, floodToleranceSeconds: 2 });
    for (let i = 0; i < 32; i++) r.take(1, CONTROL, T0); // the burst: 8 tokens = 32 pings
    let t = T0;
    expect(r.take(1, CONTROL, t)).to.equal(RATE_LIMITED);
    for (t += 100; t < T0 + 2000; t += 100) {
      while (r.take(1, CONTROL, t) === RATE_OK); // a flooder uses every refill at once
      expect(r.streakMs(t)).to.equal(t - T0);
    }
    while (r.take(1, CONTROL, t) === RATE_OK);
    expect(r.take(1, CONTROL, t)).to.equal(RATE_FLOOD);
  });

  it('counts time held back as over the limit, so a long hold does not end the streak', () => {
    const r = limiter({ bytesPerSecond: 1000, floodToleranceSeconds: 3 });
    expect(r.take(2000, REQUEST, T0)).to.equal(RATE_OK); // the whole burst
    expect(r.take(2000, REQUEST, T0)).to.equal(RATE_LIMITED); // held for 2 s
    r.heldUntil(T0 + 2000);
    expect(r.take(2000, REQUEST, T0 + 2000)).to.equal(RATE_OK);
    expect(r.take(2000, REQUEST, T0 + 2000)).to.equal(RATE_LIMITED); // the same streak
    r.heldUntil(T0 + 4000);
    expect(r.take(2000, REQUEST, T0 + 4000)).to.equal(RATE_OK);
    expect(r.take(2000, REQUEST, T0 + 4000)).to.equal(RATE_FLOOD);
  });

  it('starts a new streak after more than a second under the limit', () => {
    const r = limiter({ framesPerSecond: 1, floodToleranceSeconds: 2 });
    r.take(1, REQUEST, T0);
    r.take(1, REQUEST, T0);
    expect(r.take(1, REQUEST, T0)).to.equal(RATE_LIMITED); // streak starts at T0
    expect(r.take(1, REQUEST, T0 + 900)).to.equal(RATE_LIMITED);
    // 1.2 s without going over: the bucket refilled, and the old streak lapses.
    expect(r.take(1, REQUEST, T0 + 2100)).to.equal(RATE_OK);
    expect(r.take(1, REQUEST, T0 + 2100)).to.equal(RATE_OK);
    expect(r.take(1, REQUEST, T0 + 2100)).to.equal(RATE_LIMITED); // new streak
    expect(r.take(1, REQUEST, T0 + 3000)).to.equal(RATE_LIMITED); // would be a flood counted from T0
    expect(r.take(1, REQUEST, T0 + 4000)).to.equal(RATE_OK);
    expect(r.take(1, REQUEST, T0 + 4000)).to.equal(RATE_LIMITED);
    expect(r.take(1, REQUEST, T0 + 4200)).to.equal(RATE_OK);
    expect(r.take(1, REQUEST, T0 + 4200)).to.equal(RATE_FLOOD); // 2.1 s into the new streak
  });

  it('allows at most framesPerSecond 104 replies per second', () => {
    const r = limiter({ framesPerSecond: 3 });
    expect([r.mayReply(T0), r.mayReply(T0 + 10), r.mayReply(T0 + 20), r.mayReply(T0 + 30)]).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
    expect(r.mayReply(T0 + 999)).to.equal(false);
    expect(r.mayReply(T0 + 1000)).to.equal(true);
  });
});
