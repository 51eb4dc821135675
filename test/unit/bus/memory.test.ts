import { expect } from 'chai';
import type { BusHandler, ControlMessage, Envelope } from '../../../src/bus/bus.js';
import { MemoryBus, type MemoryBusChannel } from '../../../src/bus/memory.js';
import { BusUnavailableError } from '../../../src/errors.js';
import { describeBus, envelope, RecordingHandler } from '../../conformance/describe-bus.js';

describeBus('memory', async () => ({ nodes: [new MemoryBus()] }));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

/** A handler built from one function, for tests that need to act inside a delivery. */
function handlerOf(fn: (channel: MemoryBusChannel, msg: Envelope | ControlMessage) => void): BusHandler {
  return {
    onUserMessage: (env) => fn('user', env),
    onTopicMessage: (env) => fn('topic', env),
    onControl: (msg) => fn('control', msg),
  };
}

describe('MemoryBus', () => {
  it('delivers synchronously: the handler has run when publish returns', async () => {
    const bus = new MemoryBus();
    const h = new RecordingHandler();
    await bus.start(h);
    const env = envelope();
    const p = bus.publishToUser(env);
    expect(h.users.items).to.deep.equal([env]); // before awaiting anything
    await p;
  });

  it('rejects publishing before start() with its own BusUnavailableError (the session maps it to 107)', async () => {
    const bus = new MemoryBus();
    const err = await rejection(bus.publishToTopic(envelope({ toUser: '', topic: 'room' })));
    expect(err).to.be.instanceOf(BusUnavailableError);
    expect((err as BusUnavailableError).code).to.equal('FERRY_ERR_BUS_UNAVAILABLE');
    expect((err as Error).message).to.match(/before start/);
  });

  it('can be started only once, and not after close()', async () => {
    const bus = new MemoryBus();
    await bus.start(new RecordingHandler());
    expect(await rejection(bus.start(new RecordingHandler()))).to.be.instanceOf(BusUnavailableError);
    const closed = new MemoryBus();
    await closed.close();
    expect(await rejection(closed.start(new RecordingHandler()))).to.be.instanceOf(BusUnavailableError);
  });

  it('reports a throwing handler through onError and counts it', async () => {
    const reported: Array<[unknown, MemoryBusChannel]> = [];
    const bus = new MemoryBus({ onError: (err, channel) => reported.push([err, channel]) });
    const boom = new Error('boom');
    const seen: MemoryBusChannel[] = [];
    await bus.start(
      handlerOf((channel) => {
        seen.push(channel);
        throw boom;
      }),
    );
    await bus.publishToUser(envelope());
    await bus.publishToTopic(envelope({ toUser: '', topic: 'room' }));
    await bus.publishControl({ type: 'kick', userId: 'bob', code: 4506, reason: '' });
    expect(seen).to.deep.equal(['user', 'topic', 'control']);
    expect(reported).to.deep.equal([
      [boom, 'user'],
      [boom, 'topic'],
      [boom, 'control'],
    ]);
    expect(bus.handlerErrors).to.equal(3);
  });

  it('survives an onError callback that throws', async () => {
    const bus = new MemoryBus({
      onError: () => {
        throw new Error('reporter broken');
      },
    });
    const h = new RecordingHandler();
    await bus.start(h);
    h.throwOnce = new Error('handler broken');
    await bus.publishToUser(envelope());
    const next = envelope();
    await bus.publishToUser(next);
    expect(h.users.items.at(-1)).to.equal(next);
    expect(bus.handlerErrors).to.equal(1);
  });

  it('queues publishes made inside a handler: handlers never nest, order holds', async () => {
    const bus = new MemoryBus();
    const trace: string[] = [];
    const b = envelope({ serverId: 'B' });
    const c = envelope({ serverId: 'C' });
    await bus.start(
      handlerOf((_channel, msg) => {
        const id = 'serverId' in msg ? msg.serverId : msg.type;
        trace.push(`enter ${id}`);
        if (id === 'A') {
          void bus.publishToUser(b);
          void bus.publishControl({ type: 'kick', userId: 'bob', code: 4506, reason: '' });
          void bus.publishToTopic(c);
        }
        trace.push(`leave ${id}`);
      }),
    );
    await bus.publishToUser(envelope({ serverId: 'A' }));
    expect(trace).to.deep.equal([
      'enter A',
      'leave A',
      'enter B',
      'leave B',
      'enter kick',
      'leave kick',
      'enter C',
      'leave C',
    ]);
    // The queue is empty again: a later publish is delivered on its own.
    await bus.publishToUser(envelope({ serverId: 'D' }));
    expect(trace.slice(-2)).to.deep.equal(['enter D', 'leave D']);
  });

  it('drops what a handler queued if it closes the bus', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    await bus.start(
      handlerOf((_channel, msg) => {
        const id = (msg as Envelope).serverId;
        seen.push(id);
        if (id === 'A') {
          void bus.publishToUser(envelope({ serverId: 'B' }));
          void bus.close();
        }
      }),
    );
    await bus.publishToUser(envelope({ serverId: 'A' }));
    expect(seen).to.deep.equal(['A']);
    expect(await rejection(bus.publishToUser(envelope()))).to.be.instanceOf(BusUnavailableError);
  });
});
