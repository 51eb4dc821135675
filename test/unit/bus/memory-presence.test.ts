import { expect } from 'chai';
import { MemoryPresence } from '../../../src/bus/memory-presence.js';
import { PresenceUnavailableError } from '../../../src/errors.js';
import { describePresence, presenceEntry } from '../../conformance/describe-presence.js';

describePresence('memory', async () => ({ nodes: [new MemoryPresence()] }));

describe('MemoryPresence', () => {
  it('stores a copy: changing the added object later changes nothing', async () => {
    const p = new MemoryPresence();
    const e = presenceEntry('bob', 'phone', 's1');
    await p.add(e);
    e.sessionId = 'mutated';
    const [stored] = (await p.query(['bob'])).get('bob')!;
    expect(stored!.sessionId).to.equal('s1');
    expect(Object.isFrozen(stored)).to.equal(true);
  });

  it('counts users and devices as they come and go', async () => {
    const p = new MemoryPresence();
    await p.add(presenceEntry('bob', 'phone', 's1'));
    await p.add(presenceEntry('bob', 'phone', 's2'));
    await p.add(presenceEntry('bob', 'laptop', 's3'));
    await p.add(presenceEntry('carol', 'phone', 's4'));
    expect(p.stats()).to.deep.equal({ users: 2, devices: 3 });
    await p.remove('bob', 'phone', 's1'); // stale: s2 holds the device now
    expect(p.stats()).to.deep.equal({ users: 2, devices: 3 });
    await p.remove('bob', 'phone', 's2');
    await p.remove('carol', 'phone', 's4');
    expect(p.stats()).to.deep.equal({ users: 1, devices: 1 });
  });

  it('after close(): add and query reject, remove is a no-op', async () => {
    const p = new MemoryPresence();
    await p.add(presenceEntry('bob', 'phone', 's1'));
    await p.close();
    await p.close();
    await p.remove('bob', 'phone', 's1');
    const add = await p.add(presenceEntry('bob', 'phone', 's2')).catch((err: unknown) => err);
    const query = await p.query(['bob']).catch((err: unknown) => err);
    expect(add).to.be.instanceOf(PresenceUnavailableError);
    expect(query).to.be.instanceOf(PresenceUnavailableError);
    expect(p.stats()).to.deep.equal({ users: 0, devices: 0 });
  });
});
