/**
 * The Presence contract as a mocha suite. A fixture is one or more views of the same presence (one
 * per node: the memory presence has one; the Redis presence will give several on one Redis), and
 * what one node records must be visible from every node.
 */
import { expect } from 'chai';
import type { Presence, PresenceEntry, PresenceEvent } from '../../src/bus/presence.js';
import { Recorder } from '../helpers/recorder.js';

/** Fresh, empty views of one shared presence. */
export interface PresenceFixture {
  nodes: Presence[];
  close?(): Promise<void>;
}

/** An entry for `userId`/`deviceId` held by session `sessionId`. */
export function presenceEntry(
  userId: string,
  deviceId: string,
  sessionId: string,
  over: Partial<PresenceEntry> = {},
): PresenceEntry {
  return { userId, deviceId, sessionId, nodeId: 'n1', transport: 'ws', sinceMs: 1_700_000_000_000, ...over };
}

const byDevice = (entries: PresenceEntry[] | undefined) =>
  [...(entries ?? [])].sort((a, b) => a.deviceId.localeCompare(b.deviceId));

/** Registers the Presence conformance suite for one implementation. */
export function describePresence(name: string, factory: () => Promise<PresenceFixture>): void {
  describe(`Presence conformance: ${name}`, () => {
    let fixture: PresenceFixture;
    let first: Presence;
    let last: Presence;

    beforeEach(async () => {
      fixture = await factory();
      first = fixture.nodes[0]!;
      last = fixture.nodes[fixture.nodes.length - 1]!;
    });
    afterEach(async () => {
      await Promise.all(fixture.nodes.map((p) => p.close()));
      await fixture.close?.();
    });

    it('answers every requested user, offline ones with an empty list', async () => {
      const got = await first.query(['bob', 'carol']);
      expect([...got.keys()].sort()).to.deep.equal(['bob', 'carol']);
      expect(got.get('bob')).to.deep.equal([]);
      expect(got.get('carol')).to.deep.equal([]);
      expect((await first.query([])).size).to.equal(0);
    });

    it('shows an added device, field for field, from every node', async () => {
      const e = presenceEntry('bob', 'phone', 's1', { transport: 'wt', nodeId: 'node-a', sinceMs: 123 });
      await first.add(e);
      for (const p of fixture.nodes) expect((await p.query(['bob'])).get('bob')).to.deep.equal([e]);
    });

    it('lists each device of a user, for several users at once', async () => {
      const entries = [
        presenceEntry('bob', 'phone', 's1'),
        presenceEntry('bob', 'laptop', 's2', { transport: 'tcp', nodeId: 'n2' }),
        presenceEntry('carol', 'phone', 's3'),
      ];
      for (const [i, e] of entries.entries()) await fixture.nodes[i % fixture.nodes.length]!.add(e);
      const got = await last.query(['bob', 'carol', 'dave']);
      expect(byDevice(got.get('bob'))).to.deep.equal(byDevice(entries.slice(0, 2)));
      expect(got.get('carol')).to.deep.equal([entries[2]]);
      expect(got.get('dave')).to.deep.equal([]);
    });

    it('keeps one entry per device: a new session replaces the old', async () => {
      await first.add(presenceEntry('bob', 'phone', 'old'));
      const fresh = presenceEntry('bob', 'phone', 'new', { sinceMs: 2 });
      await last.add(fresh);
      expect((await first.query(['bob'])).get('bob')).to.deep.equal([fresh]);
    });

    it('removes a device when the session id matches', async () => {
      await first.add(presenceEntry('bob', 'phone', 's1'));
      const laptop = presenceEntry('bob', 'laptop', 's2');
      await first.add(laptop);
      await last.remove('bob', 'phone', 's1');
      expect((await first.query(['bob'])).get('bob')).to.deep.equal([laptop]);
      await first.remove('bob', 'laptop', 's2');
      expect((await last.query(['bob'])).get('bob')).to.deep.equal([]);
    });

    it('ignores a remove from a stale session (the device reconnected meanwhile)', async () => {
      await first.add(presenceEntry('bob', 'phone', 'old'));
      const fresh = presenceEntry('bob', 'phone', 'new');
      await last.add(fresh);
      await first.remove('bob', 'phone', 'old');
      expect((await last.query(['bob'])).get('bob')).to.deep.equal([fresh]);
    });

    it('treats removing an unknown user or device as a no-op', async () => {
      const e = presenceEntry('bob', 'phone', 's1');
      await first.add(e);
      await first.remove('nobody', 'phone', 's1');
      await first.remove('bob', 'tablet', 's1');
      expect((await first.query(['bob', 'nobody'])).get('bob')).to.deep.equal([e]);
    });

    it("tells every node's watchers when a device comes online and goes offline", async () => {
      const seen = fixture.nodes.map(() => new Recorder<PresenceEvent>());
      const stops = fixture.nodes.map((p, i) => p.watch((ev) => seen[i]!.push(ev)));
      const e = presenceEntry('dora', 'tab', 's1', { nodeId: 'node-a' });
      await first.add(e);
      await first.remove('dora', 'tab', 's1');
      for (const events of seen) {
        await events.waitForCount(2, 'online and offline');
        expect(
          events.items.map((ev) => [ev.kind, ev.entry.userId, ev.entry.deviceId, ev.entry.sessionId]),
        ).to.deep.equal([
          ['online', 'dora', 'tab', 's1'],
          ['offline', 'dora', 'tab', 's1'],
        ]);
      }
      for (const stop of stops) stop();
    });

    it('stops calling a watcher after it unsubscribes, and says nothing for a stale remove', async () => {
      const events = new Recorder<PresenceEvent>();
      const stop = last.watch((ev) => events.push(ev));
      await first.add(presenceEntry('erin', 'pc', 's1'));
      await events.waitForCount(1, "erin's pc online");
      await first.remove('erin', 'pc', 'stale-session');
      stop();
      await first.remove('erin', 'pc', 's1');
      await first.add(presenceEntry('erin', 'pc', 's2'));
      // A later event proves the earlier ones had time to arrive: watch from a fresh listener.
      const probe = new Recorder<PresenceEvent>();
      const stopProbe = last.watch((ev) => probe.push(ev));
      await first.add(presenceEntry('erin', 'tablet', 's3'));
      await probe.waitFor((evs) => evs.some((ev) => ev.entry.deviceId === 'tablet'), "erin's tablet online");
      stopProbe();
      expect(events.items.map((ev) => ev.kind)).to.deep.equal(['online']);
    });
  });
}
