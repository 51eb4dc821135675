import { expect } from 'chai';
import { QuicStreamError, type QuicEngineConnection } from '../../../../src/webtransport/quic/engine.js';
import { classifyQuicheError } from '../../../../src/webtransport/quic/quiche-engine.js';
import { SendQueue } from '../../../../src/webtransport/quic/send-queue.js';

/** An engine stand-in that takes at most `credit` bytes, like quiche under flow control. */
class FakeEngine {
  credit = 0;
  written: number[] = [];
  fin = false;
  stopped = false;

  streamSend(_id: number, data: Uint8Array, fin: boolean): number {
    if (this.stopped) throw new QuicStreamError('stopped', 7, 'StreamStopped(7)');
    if (this.credit === 0 && !(fin && data.length === 0)) return -1;
    const n = Math.min(this.credit, data.length);
    this.credit -= n;
    this.written.push(...data.subarray(0, n));
    if (fin && n === data.length) this.fin = true;
    return n;
  }
}

function drain(queue: SendQueue, engine: FakeEngine): boolean {
  return queue.drainInto(engine as unknown as QuicEngineConnection, 0);
}

describe('SendQueue', function () {
  it('hands out what credit allows, keeps the rest in order, then sends FIN', function () {
    const queue = new SendQueue();
    const engine = new FakeEngine();
    queue.push(Uint8Array.of(1, 2, 3));
    queue.push(Uint8Array.of(4, 5));
    queue.fin = true;
    expect(drain(queue, engine)).to.equal(false);
    engine.credit = 2;
    expect(drain(queue, engine)).to.equal(false);
    expect(queue.bytes).to.equal(3);
    engine.credit = 10;
    expect(drain(queue, engine)).to.equal(true);
    expect(engine.written).to.deep.equal([1, 2, 3, 4, 5]);
    expect(engine.fin).to.equal(true);
    expect(queue.isEmpty).to.equal(true);
  });

  it('sends a lone FIN without credit', function () {
    const queue = new SendQueue();
    const engine = new FakeEngine();
    queue.fin = true;
    expect(drain(queue, engine)).to.equal(true);
    expect(engine.fin).to.equal(true);
  });

  it('lets the engine error through (peer STOP_SENDING)', function () {
    const queue = new SendQueue();
    const engine = new FakeEngine();
    engine.stopped = true;
    queue.push(Uint8Array.of(1));
    expect(() => drain(queue, engine)).to.throw(QuicStreamError);
  });
});

describe('classifyQuicheError', function () {
  it('maps quiche error names and their codes', function () {
    expect(classifyQuicheError(new Error('StreamReset(271)'))).to.deep.equal({
      name: 'StreamReset',
      code: 271,
      kind: 'reset',
    });
    expect(classifyQuicheError(new Error('StreamStopped(77)')).kind).to.equal('stopped');
    expect(classifyQuicheError(new Error('InvalidStreamState(3)')).kind).to.equal('state');
    expect(classifyQuicheError(new Error('FinalSize')).kind).to.equal('state');
    expect(classifyQuicheError(new Error('StreamLimit')).kind).to.equal('limit');
    expect(classifyQuicheError(new Error('BufferTooShort')).kind).to.equal('other');
    expect(classifyQuicheError('weird')).to.deep.equal({ name: 'weird', code: 0, kind: 'other' });
  });
});
