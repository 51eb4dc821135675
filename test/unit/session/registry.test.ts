import { expect } from 'chai';
import type { Envelope } from '../../../src/bus/bus.js';
import { MemoryPresence } from '../../../src/bus/memory-presence.js';
import { DisconnectCode } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { EncodedDeliver } from '../../../src/routing/encoded-deliver.js';
import { REPLACED_REASON, SessionRegistry, type RegisteredSession } from '../../../src/session/registry.js';
import type { TransportKind } from '../../../src/transport/transport.js';

let nextId = 1;

/** A registered session that records what happens to it. */
class FakeSession implements RegisteredSession {
  readonly sessionId = `s${nextId++}`;
  readonly sinceMs = 1000;
  sentSeq = 0;
  disconnected: { code: number; reason: string } | null = null;
  readonly got: Envelope[] = [];
  constructor(
    readonly userId: string,
    readonly deviceId: string,
    private readonly registry?: SessionRegistry,
    readonly transport: TransportKind = 'ws',
  ) {}
  deliver(env: Envelope, _encoded: EncodedDeliver): void {
    this.got.push(env);
  }
  disconnect(code: number, reason: string): void {
    if (this.disconnected !== null) return;
    this.disconnected = { code, reason };
    this.registry?.remove(this); // like a real session leaving on disconnect
  }
}

const settle = () => new Promise((r) => setImmediate(r));

describe('SessionRegistry', () => {
  let presence: MemoryPresence;
  let reg: SessionRegistry;

  beforeEach(() => {
    presence = new MemoryPresence();
    reg = new SessionRegistry({ nodeId: 'n1', presence, logger: silentLogger() });
  });

  it("lists each user's highest seq sent by any of its sessions, leaving out users sent none", () => {
    const [a1, a2, b, c] = [
      new FakeSession('a', 'phone', reg),
      new FakeSession('a', 'laptop', reg),
      new FakeSession('b', 'phone', reg),
      new FakeSession('c', 'phone', reg),
    ];
    for (const s of [a1, a2, b, c]) reg.add(s, 'replace-old');
    [a1.sentSeq, a2.sentSeq, b.sentSeq] = [7, 9, 3];
    expect(reg.sentSeqs()).to.deep.equal([
      ['a', 9],
      ['b', 3],
    ]);
  });

  it('indexes sessions by user and device and mirrors them into presence', async () => {
    const phone = new FakeSession('u', 'phone', reg);
    const laptop = new FakeSession('u', 'laptop', reg, 'tcp');
    expect(reg.add(phone, 'replace-old')).to.equal('added');
    expect(reg.add(laptop, 'replace-old')).to.equal('added');
    expect(reg.sessionsOfUser('u')).to.deep.equal([phone, laptop]);
    expect(reg.get('u', 'laptop')).to.equal(laptop);
    await settle();
    const entries = (await presence.query(['u'])).get('u') ?? [];
    expect(entries.map((e) => [e.deviceId, e.transport, e.nodeId, e.sessionId])).to.deep.equal([
      ['phone', 'ws', 'n1', phone.sessionId],
      ['laptop', 'tcp', 'n1', laptop.sessionId],
    ]);
    reg.remove(phone);
    await settle();
    expect(reg.sessionsOfUser('u')).to.deep.equal([laptop]);
    expect(((await presence.query(['u'])).get('u') ?? []).map((e) => e.deviceId)).to.deep.equal(['laptop']);
    expect(reg.counts()).to.deep.include({ users: 1, sessions: 1 });
  });

  it("replace-old swaps the device's session and disconnects the old one with 4505", async () => {
    const old = new FakeSession('u', 'phone', reg);
    const fresh = new FakeSession('u', 'phone', reg);
    reg.add(old, 'replace-old');
    expect(reg.add(fresh, 'replace-old')).to.equal('added');
    expect(old.disconnected).to.deep.equal({ code: DisconnectCode.REPLACED, reason: REPLACED_REASON });
    expect(reg.sessionsOfUser('u')).to.deep.equal([fresh]);
    expect(reg.counts().sessions).to.equal(1);
    await settle();
    // The old session's presence removal (keyed by its session id) leaves the new entry alone.
    const entries = (await presence.query(['u'])).get('u') ?? [];
    expect(entries.map((e) => e.sessionId)).to.deep.equal([fresh.sessionId]);
  });

  it('reject-new keeps the existing session and reports the refusal', () => {
    const old = new FakeSession('u', 'phone', reg);
    reg.add(old, 'reject-new');
    expect(reg.add(new FakeSession('u', 'phone', reg), 'reject-new')).to.equal('rejected');
    expect(reg.sessionsOfUser('u')).to.deep.equal([old]);
    expect(old.disconnected).to.equal(null);
  });

  it('kicks one device or all of them, safely while the sessions remove themselves', () => {
    const a = new FakeSession('u', 'a', reg);
    const b = new FakeSession('u', 'b', reg);
    const c = new FakeSession('u', 'c', reg);
    for (const s of [a, b, c]) reg.add(s, 'replace-old');
    expect(reg.kick('u', 'b', DisconnectCode.KICKED, 'bye b')).to.equal(1);
    expect(b.disconnected?.code).to.equal(DisconnectCode.KICKED);
    expect(reg.kick('u', undefined, DisconnectCode.KICKED, 'bye all')).to.equal(2);
    expect([a.disconnected?.reason, c.disconnected?.reason]).to.deep.equal(['bye all', 'bye all']);
    expect(reg.sessionsOfUser('u')).to.equal(undefined);
    expect(reg.kick('nobody', undefined, 4506, 'x')).to.equal(0);
  });

  it('replace() disconnects the sessions of a device except the one to keep', () => {
    const mine = new FakeSession('u', 'phone', reg);
    reg.add(mine, 'replace-old');
    expect(reg.replace('u', 'phone', mine.sessionId)).to.equal(0);
    expect(reg.replace('u', 'phone', 'a-session-on-another-node')).to.equal(1);
    expect(mine.disconnected?.code).to.equal(DisconnectCode.REPLACED);
  });

  it('tracks topic subscribers and counts', () => {
    const a = new FakeSession('a', 'd', reg);
    const b = new FakeSession('b', 'd', reg);
    expect(reg.subscribe('t', a)).to.equal(true);
    expect(reg.subscribe('t', a)).to.equal(false);
    reg.subscribe('t', b);
    reg.subscribe('t2', b);
    expect([...(reg.subscribersOf('t') ?? [])]).to.deep.equal([a, b]);
    expect(reg.counts()).to.deep.include({ topics: 2, subscriptions: 3 });
    expect(reg.unsubscribe('t', a)).to.equal(true);
    expect(reg.unsubscribe('t', a)).to.equal(false);
    reg.unsubscribe('t2', b);
    expect(reg.subscribersOf('t2')).to.equal(undefined);
    expect(reg.counts()).to.deep.include({ topics: 1, subscriptions: 1 });
  });
});
