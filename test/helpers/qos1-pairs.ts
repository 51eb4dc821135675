/**
 * QoS-1 traffic between pairs of SDK clients on two gateway nodes, counted as the application sees
 * it: the client SDK (client/src) does the resends, resume and dedup, and this tallies what its
 * `send` promises acked and what its `message` events delivered. Pair i is user `<prefix>a<i>` on
 * node A and `<prefix>b<i>` on node B; each sends to the other, so every message crosses nodes.
 *
 * The tally, per message (sender, index): acked = its send resolved; delivered = shown to the
 * partner's application at least once; lost = acked and never delivered; duplicated = shown again;
 * reordered = shown after a later message of the same sender.
 */
import { connect, type FerryClient, type SendResult } from '../../client/src/node.js';
import { testToken } from './gateway-process.js';

/** What the applications saw. */
export interface Qos1Tally {
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Sends not acked (yet): still in an SDK's outbox. */
  unacked: number;
}

/** The end marker each user sends last; its delivery means the partner's log was read up to it. */
const END = 'end';

interface User {
  name: string;
  partner: string;
  client: FerryClient;
  sent: Promise<SendResult>[];
  acked: Set<number>;
  /** Indexes from the partner, in delivery order. */
  received: number[];
  ended: Promise<void>;
}

/** Options of Qos1Pairs.connect. */
export interface Qos1PairsOptions {
  pairs: number;
  /** User-name prefix, unique per test. */
  prefix: string;
  /** Client URL of node A and of node B (each user lists its own node first, then the other). */
  nodeA: string;
  nodeB: string;
}

/** SDK users in pairs across two nodes; see the file comment. */
export class Qos1Pairs {
  private constructor(private readonly users: User[]) {}

  /** Connects every user (to its own node first) and resolves once all are open. */
  static async connect(o: Qos1PairsOptions): Promise<Qos1Pairs> {
    const users: User[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const a = `${o.prefix}a${i}`;
      const b = `${o.prefix}b${i}`;
      users.push(await open(a, b, [o.nodeA, o.nodeB]), await open(b, a, [o.nodeB, o.nodeA]));
    }
    return new Qos1Pairs(users);
  }

  /** Sends message `index` from every user to its partner (not waiting for the acks). */
  sendRound(index: number): void {
    for (const u of this.users) {
      const p = u.client.send(u.partner, `${u.name}|${index}`);
      p.then(
        () => u.acked.add(index),
        () => undefined,
      );
      u.sent.push(p);
    }
  }

  /**
   * Waits for every send to be acked, then sends each user's end marker and waits until every partner
   * got it: deliveries come in seq order, so what was acked before it has been delivered by then, or
   * never will be. Rejects after `timeoutMs` (with the tally so far in the message).
   */
  async finish(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not finished within ${timeoutMs} ms: ${this.line()}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.allSettled(this.users.flatMap((u) => u.sent)), expired]);
      await Promise.race([Promise.all(this.users.map((u) => u.client.send(u.partner, END))), expired]);
      await Promise.race([Promise.all(this.users.map((u) => u.ended)), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  tally(): Qos1Tally {
    const t: Qos1Tally = { acked: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, unacked: 0 };
    const byName = new Map(this.users.map((u) => [u.name, u]));
    for (const sender of this.users) {
      const receiver = byName.get(sender.partner)!;
      const seen = new Set<number>();
      let highest = -1;
      for (const index of receiver.received) {
        if (seen.has(index)) t.duplicated++;
        else seen.add(index);
        if (index < highest) t.reordered++;
        highest = Math.max(highest, index);
      }
      t.acked += sender.acked.size;
      t.delivered += seen.size;
      t.unacked += sender.sent.length - sender.acked.size;
      for (const index of sender.acked) if (!seen.has(index)) t.lost++;
    }
    return t;
  }

  /** `acked=N delivered=N lost=N duplicated=N reordered=N`, the line every fault test prints. */
  line(): string {
    const t = this.tally();
    return `acked=${t.acked} delivered=${t.delivered} lost=${t.lost} duplicated=${t.duplicated} reordered=${t.reordered}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.users.map((u) => u.client.close()));
  }
}

async function open(name: string, partner: string, urls: string[]): Promise<User> {
  const client = await connect({
    endpoints: urls,
    token: await testToken(name),
    deviceId: 'd1',
    backoff: { initialMs: 100, maxMs: 500 },
  });
  const received: number[] = [];
  let ended!: () => void;
  const user: User = {
    name,
    partner,
    client,
    sent: [],
    acked: new Set(),
    received,
    ended: new Promise<void>((resolve) => (ended = resolve)),
  };
  client.on('message', (m) => {
    const text = Buffer.from(m.payload).toString();
    if (m.from !== partner) return;
    if (text === END) ended();
    else received.push(Number(text.slice(text.indexOf('|') + 1)));
  });
  return user;
}
