import { expect } from 'chai';
import { ReplyCode, RequestError } from '../../../src/errors.js';
import {
  BUSY_RETRY_MAX_MS,
  BUSY_RETRY_MIN_MS,
  PendingAppends,
} from '../../../src/routing/pending-appends.js';

function refusal(p: PendingAppends): RequestError {
  try {
    p.acquire();
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error('acquire() took a slot beyond the bound');
}

describe('PendingAppends (the node-wide bound on QoS-1 messages in flight)', () => {
  let ms = 1000;
  const now = (): number => ms;
  beforeEach(() => (ms = 1000));

  it('hands out `max` slots, then refuses with 109 BUSY, retryable, with retry_after_ms', () => {
    const p = new PendingAppends(3, now);
    for (let i = 0; i < 3; i++) p.acquire();
    const err = refusal(p);
    expect(err.replyCode).to.equal(ReplyCode.BUSY);
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.be.within(BUSY_RETRY_MIN_MS, BUSY_RETRY_MAX_MS);
    expect(p.size).to.equal(3);
    expect(p.stats()).to.deep.include({ pendingAppends: 3, maxPendingAppends: 3, busyRefusals: 1 });
    expect(p.takeBusy()).to.equal(1);
    expect(p.takeBusy(), 'counted once for the metrics flush').to.equal(0);
  });

  it('frees a slot on release, and remembers the peak', () => {
    const p = new PendingAppends(2, now);
    const a = p.acquire();
    p.acquire();
    p.release(a);
    p.acquire();
    expect(p.size).to.equal(2);
    expect(p.stats().pendingAppendsPeak).to.equal(2);
  });

  it('advises the recent settle time, and a growing wait while nothing settles (a stalled Redis)', () => {
    const p = new PendingAppends(1, now);
    // Slots held 400 ms each: the average moves toward 400.
    for (let i = 0; i < 64; i++) {
      const t = p.acquire();
      ms += 400;
      p.release(t);
    }
    p.acquire();
    expect(refusal(p).retryAfterMs).to.be.within(350, 400);
    // Nothing settles for 1.5 s: the advice follows the stall, up to the ceiling.
    ms += 1500;
    expect(refusal(p).retryAfterMs).to.equal(1500);
    ms += 10_000;
    expect(refusal(p).retryAfterMs).to.equal(BUSY_RETRY_MAX_MS);
  });

  it('does not count an idle spell before the first slot as a stall', () => {
    const p = new PendingAppends(1, now);
    ms += 3_600_000;
    p.acquire();
    expect(refusal(p).retryAfterMs).to.equal(BUSY_RETRY_MIN_MS);
  });

  it('is unbounded with max <= 0', () => {
    const p = new PendingAppends(0, now);
    for (let i = 0; i < 10_000; i++) p.acquire();
    expect(p.stats().maxPendingAppends).to.equal(0);
  });
});
