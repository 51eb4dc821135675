import { expect } from 'chai';
import { Metrics } from '../../../src/observability/metrics.js';
import {
  OutboundQueue,
  PRIORITY_CONTROL,
  PRIORITY_EPHEMERAL,
  PRIORITY_NORMAL,
  PRIORITY_RELIABLE,
  type Priority,
  type QueueSettings,
  type QueueSink,
} from '../../../src/session/outbound-queue.js';
import { FakeConnection } from '../../helpers/fake-connection.js';

/** A sink that writes into a FakeConnection whose buffer grows by each frame's size. */
class GrowingSink implements QueueSink {
  readonly conn = new FakeConnection();
  readonly handed: [number, Priority][] = [];
  handOff(bytes: Uint8Array, priority: Priority): void {
    this.handed.push([bytes[0]!, priority]);
    this.conn.buffered += bytes.length;
  }
}

function frame(tag: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = tag;
  return b;
}

describe('OutboundQueue', () => {
  let metrics: Metrics;
  let shed: [Priority, number][];
  let settings: QueueSettings;

  beforeEach(() => {
    metrics = new Metrics({ defaultMetrics: false });
    shed = [];
    settings = {
      highWaterMark: 100,
      capBytes: 1000,
      shedQos0: false,
      queueBytes: metrics.outboundQueueBytes,
      queueFrames: metrics.outboundQueueFrames,
      onShed: (p, n) => shed.push([p, n]),
    };
  });

  const gauge = async (g: 'outboundQueueBytes' | 'outboundQueueFrames') =>
    (await metrics[g].get()).values[0]?.value;

  it('flushes by strict priority, FIFO within a priority, while the transport is under the mark', () => {
    const q = new OutboundQueue(settings);
    q.push(frame(1, 10), PRIORITY_EPHEMERAL, 0, 0);
    q.push(frame(2, 10), PRIORITY_NORMAL, 0, 0);
    q.push(frame(3, 10), PRIORITY_RELIABLE, 0, 0);
    q.push(frame(4, 10), PRIORITY_CONTROL, 0, 0);
    q.push(frame(5, 10), PRIORITY_NORMAL, 0, 0);
    const sink = new GrowingSink();
    expect(q.flush(sink)).to.equal(true);
    expect(sink.handed.map(([tag]) => tag)).to.deep.equal([4, 3, 2, 5, 1]);
    expect(q.isEmpty).to.equal(true);
  });

  it('stops flushing at the high-water mark and resumes where it left off', () => {
    const q = new OutboundQueue(settings);
    for (let i = 1; i <= 4; i++) q.push(frame(i, 60), PRIORITY_NORMAL, 0, 0);
    const sink = new GrowingSink();
    expect(q.flush(sink)).to.equal(false); // 60, 120 >= 100: stop
    expect(sink.handed.map(([t]) => t)).to.deep.equal([1, 2]);
    expect(q.queuedFrames).to.equal(2);
    sink.conn.buffered = 0;
    expect(q.flush(sink)).to.equal(true);
    expect(sink.handed.map(([t]) => t)).to.deep.equal([1, 2, 3, 4]);
  });

  it('counts queued + transport-buffered bytes against the cap and sheds the oldest ephemeral first', () => {
    settings.highWaterMark = 10_000; // so one flush empties it
    const q = new OutboundQueue(settings);
    expect(q.push(frame(1, 200), PRIORITY_EPHEMERAL, 0, 500)).to.equal(true);
    expect(q.push(frame(2, 200), PRIORITY_EPHEMERAL, 0, 500)).to.equal(true);
    expect(q.push(frame(3, 200), PRIORITY_NORMAL, 0, 500)).to.equal(true); // 600 + 500 > 1000: shed #1
    expect(shed).to.deep.equal([[PRIORITY_EPHEMERAL, 1]]);
    expect(q.queuedBytes).to.equal(400);
    const sink = new GrowingSink();
    q.flush(sink);
    expect(sink.handed.map(([t]) => t)).to.deep.equal([3, 2]);
  });

  it('does not shed QoS 0 by default: reports the slow consumer instead', () => {
    const q = new OutboundQueue(settings);
    q.push(frame(1, 100), PRIORITY_EPHEMERAL, 0, 0);
    q.push(frame(2, 400), PRIORITY_NORMAL, 0, 0);
    expect(q.push(frame(3, 500), PRIORITY_NORMAL, 0, 200)).to.equal(false); // 1200 - 100 shed > 1000
    expect(shed).to.deep.equal([[PRIORITY_EPHEMERAL, 1]]);
  });

  it('sheds QoS 0 after ephemeral when configured, never QoS 1 or control', () => {
    settings.shedQos0 = true;
    const q = new OutboundQueue(settings);
    q.push(frame(1, 100), PRIORITY_EPHEMERAL, 0, 0);
    q.push(frame(2, 300), PRIORITY_NORMAL, 0, 0);
    q.push(frame(3, 300), PRIORITY_RELIABLE, 0, 0);
    expect(q.push(frame(4, 300), PRIORITY_CONTROL, 0, 200)).to.equal(true);
    expect(shed).to.deep.equal([
      [PRIORITY_EPHEMERAL, 1],
      [PRIORITY_NORMAL, 1],
    ]);
    expect(q.push(frame(5, 500), PRIORITY_RELIABLE, 0, 200)).to.equal(false);
  });

  it('keeps the process-wide gauges in step by deltas, and clear() gives back its share', async () => {
    const a = new OutboundQueue(settings);
    const b = new OutboundQueue(settings);
    a.push(frame(1, 30), PRIORITY_NORMAL, 0, 0);
    a.push(frame(2, 20), PRIORITY_EPHEMERAL, 0, 0);
    b.push(frame(3, 50), PRIORITY_CONTROL, 0, 0);
    expect(await gauge('outboundQueueBytes')).to.equal(100);
    expect(await gauge('outboundQueueFrames')).to.equal(3);
    expect(a.clear()).to.equal(2); // QoS-0 and ephemeral frames lost with the queue
    expect(await gauge('outboundQueueBytes')).to.equal(50);
    b.flush(new GrowingSink());
    expect(await gauge('outboundQueueBytes')).to.equal(0);
    expect(await gauge('outboundQueueFrames')).to.equal(0);
  });
});
