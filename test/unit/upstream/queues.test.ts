import { expect } from 'chai';
import { DedupWindow } from '../../../src/upstream/dedup-window.js';
import { PriorityQueues } from '../../../src/upstream/priority-queues.js';
import type { Priority } from '../../../src/upstream/route-table.js';

const item = (priority: Priority, n: number) => ({ priority, n });

describe('upstream/priority-queues', () => {
  it('drains by priority, FIFO within one, and refuses past each bound', () => {
    const q = new PriorityQueues<{ priority: Priority; n: number }>({
      critical: 2,
      high: 2,
      normal: 2,
      low: 1,
    });
    expect(q.offer(item('low', 1))).to.equal(true);
    expect(q.offer(item('low', 2))).to.equal(false);
    expect(q.offer(item('normal', 3))).to.equal(true);
    expect(q.offer(item('critical', 4))).to.equal(true);
    expect(q.offer(item('normal', 5))).to.equal(true);
    expect(q.offer(item('normal', 6))).to.equal(false);
    expect(q.offer(item('high', 7))).to.equal(true);
    expect(q.size).to.equal(5);
    expect(q.depth('normal')).to.equal(2);
    expect(q.take(3).map((x) => x.n)).to.deep.equal([4, 7, 3]);
    q.requeue(item('normal', 8)); // a retry goes first and past the bound
    q.requeue(item('normal', 9));
    expect(q.take(10).map((x) => x.n)).to.deep.equal([9, 8, 5, 1]);
    expect(q.size).to.equal(0);
  });

  it('keeps FIFO order over many items (head compaction)', () => {
    const q = new PriorityQueues<{ priority: Priority; n: number }>({
      critical: 1,
      high: 1,
      normal: 5000,
      low: 1,
    });
    for (let i = 0; i < 5000; i++) q.offer(item('normal', i));
    const out: number[] = [];
    while (q.size > 0) out.push(...q.take(7).map((x) => x.n));
    expect(out).to.deep.equal(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('upstream/dedup-window', () => {
  it('returns the first result within the window, forgets failures and expired keys', async () => {
    let now = 1000;
    const d = new DedupWindow<string>({ windowMs: 100, now: () => now });
    d.remember('a', Promise.resolve('first'));
    expect(await d.get('a')).to.equal('first');
    const failing = Promise.reject(new Error('busy'));
    d.remember('b', failing);
    await failing.catch(() => undefined);
    await Promise.resolve();
    expect(d.get('b')).to.equal(undefined);
    now += 100;
    expect(d.get('a')).to.equal(undefined);
    expect(d.size).to.equal(0);
  });

  it('caps its size, dropping the oldest', () => {
    const d = new DedupWindow<number>({ windowMs: 1000, maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) d.remember(k, Promise.resolve(1));
    expect(d.size).to.equal(2);
    expect(d.get('a')).to.equal(undefined);
    const off = new DedupWindow<number>({ windowMs: 0 });
    off.remember('x', Promise.resolve(1));
    expect(off.get('x')).to.equal(undefined);
  });
});
