import { expect } from 'chai';
import { ReplyCode } from '../../../src/errors.js';
import type { FerryConfig } from '../../../src/config/schema.js';
import type { Frame } from '../../../src/protocol/codec.js';
import { SessionHarness, bytes, settle, text } from '../../helpers/session-harness.js';
import type { FakeConnection } from '../../helpers/fake-connection.js';

/** Sends one request and returns its answer (the frame with the same id). */
async function ask(c: FakeConnection, frame: Parameters<FakeConnection['send']>[0]): Promise<Frame> {
  c.send(frame);
  await settle();
  const id = frame.id;
  const answer = c.take().find((f) => f.id === id);
  expect(answer, `an answer to request ${id}`).to.not.equal(undefined);
  return answer!;
}

function denied(f: Frame, pattern: RegExp): void {
  expect(f.body, JSON.stringify(f)).to.equal('error');
  expect(f.error?.code).to.equal(ReplyCode.PERMISSION_DENIED);
  expect(f.error?.message).to.match(pattern);
}

/** A production-like node: configured keys, so `auto` settings are closed. */
function production(edit: (c: FerryConfig) => void = () => {}) {
  return (c: FerryConfig) => {
    c.auth.hmacSecrets = { '': 'unit-test-secret-of-at-least-32-bytes!' };
    c.topics.rules = {
      ...c.topics.rules,
      news: { subscribe: 'any', publish: 'none', history: 'any' },
      'chat:*': { subscribe: 'grant', publish: 'subscriber', history: 'grant' },
      'inbox:{user}': { subscribe: 'any', publish: 'none', history: 'any' },
      'board:*': { subscribe: 'any', publish: 'grant', history: 'none' },
    };
    edit(c);
  };
}

describe('session: topic and presence permissions', () => {
  let h: SessionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses what no rule allows with 103 naming the topic, and allows what a rule opens', async () => {
    h = await SessionHarness.create({ config: production() });
    const c = await h.login('alice');
    expect((await ask(c, { id: 1, subscribe: { topic: 'news' } })).body).to.equal('reply');
    denied(await ask(c, { id: 2, subscribe: { topic: 'secret' } }), /subscribe to topic "secret"/);
    denied(
      await ask(c, { id: 3, publish: { topic: 'news', payload: bytes('x') } }),
      /publish to topic "news"/,
    );
    denied(await ask(c, { id: 4, subscribe: { topic: 'chat:1' } }), /topic "chat:1".*grant/);
    expect((await ask(c, { id: 5, subscribe: { topic: 'inbox:alice' } })).body).to.equal('reply');
    denied(await ask(c, { id: 6, subscribe: { topic: 'inbox:bob' } }), /topic "inbox:bob"/);
    denied(
      await ask(c, { id: 7, subscribe: { topic: 'board:1', sinceSeq: 1 } }),
      /history of topic "board:1"/,
    );
    expect((await ask(c, { id: 8, subscribe: { topic: 'board:1' } })).body).to.equal('reply');
  });

  it('grants topics through the token claim, and publish to subscribers only', async () => {
    h = await SessionHarness.create({ config: production() });
    const a = await h.login('alice', { topics: ['chat:*'] });
    const b = await h.login('bob', { topics: ['chat:1'] });
    denied(
      await ask(a, { id: 1, publish: { topic: 'chat:1', payload: bytes('early') } }),
      /subscribe to it first/,
    );
    expect((await ask(a, { id: 2, subscribe: { topic: 'chat:1' } })).body).to.equal('reply');
    expect((await ask(b, { id: 2, subscribe: { topic: 'chat:1' } })).body).to.equal('reply');
    denied(await ask(b, { id: 3, subscribe: { topic: 'chat:2' } }), /topic "chat:2"/);
    expect((await ask(a, { id: 3, publish: { topic: 'chat:1', payload: bytes('hi') } })).body).to.equal(
      'sendAck',
    );
    expect(b.delivers().map((d) => text(d.payload))).to.deep.equal(['hi']);
    const board = await ask(a, { id: 4, publish: { topic: 'board:1', payload: bytes('x') } });
    denied(board, /publish to topic "board:1".*grant/);
  });

  it('opens one topic for one user with a subscription token, and refuses a token that does not fit', async () => {
    h = await SessionHarness.create({ config: production() });
    const c = await h.login('alice');
    const ok = h.auth.issueSubscription('alice', 'chat:9');
    const other = h.auth.issueSubscription('bob', 'chat:9');
    const wrongTopic = h.auth.issueSubscription('alice', 'chat:8');
    const expired = h.auth.issueSubscription('alice', 'chat:9', h.clock.now() - 1);
    denied(await ask(c, { id: 1, subscribe: { topic: 'chat:9', token: other } }), /another user/);
    denied(
      await ask(c, { id: 2, subscribe: { topic: 'chat:9', token: wrongTopic } }),
      /is for topic "chat:8"/,
    );
    denied(
      await ask(c, { id: 3, subscribe: { topic: 'chat:9', token: expired } }),
      /subscription token refused: token expired/,
    );
    denied(
      await ask(c, { id: 4, subscribe: { topic: 'chat:9', token: 'garbage' } }),
      /subscription token refused/,
    );
    expect((await ask(c, { id: 5, subscribe: { topic: 'chat:9', token: ok, sinceSeq: 3 } })).body).to.equal(
      'reply',
    );
    // The grant holds for the connection: publishing as a subscriber, and subscribing again.
    expect((await ask(c, { id: 6, publish: { topic: 'chat:9', payload: bytes('x') } })).body).to.equal(
      'sendAck',
    );
    await ask(c, { id: 7, unsubscribe: { topic: 'chat:9' } });
    expect((await ask(c, { id: 8, subscribe: { topic: 'chat:9' } })).body).to.equal('reply');
  });

  it('never lets a client publish to a $ topic; $all is open to subscribers', async () => {
    h = await SessionHarness.create(); // development defaults: everything else is open
    const c = await h.login('alice', { topics: ['$all'] });
    expect((await ask(c, { id: 1, subscribe: { topic: '$all', sinceSeq: 1 } })).body).to.equal('reply');
    const p = await ask(c, {
      id: 2,
      publish: { topic: '$all', payload: bytes('x'), qos: 1, clientMsgId: 'm' },
    });
    denied(p, /reserved: only the server publishes/);
    denied(await ask(c, { id: 3, subscribe: { topic: '$other' } }), /topic "\$other"/);
    expect((await ask(c, { id: 4, publish: { topic: 'anything', payload: bytes('x') } })).body).to.equal(
      'sendAck',
    );
  });

  it('replays a topic from its first retained offset with from_start', async () => {
    h = await SessionHarness.create();
    const pub = await h.login('pub');
    for (let i = 1; i <= 3; i++) {
      const ack = await ask(pub, {
        id: i,
        publish: { topic: 't', payload: bytes(`m${i}`), qos: 1, clientMsgId: `c${i}` },
      });
      expect(ack.sendAck?.seq).to.equal(i);
    }
    const sub = await h.login('sub');
    const reply = await ask(sub, { id: 1, subscribe: { topic: 't', fromStart: true } });
    expect(reply.reply?.topicSeq).to.equal(3);
    await settle();
    expect(sub.delivers().map((d) => d.seq)).to.deep.equal([1, 2, 3]);
    const bad = await ask(sub, { id: 2, subscribe: { topic: 'u', fromStart: true, sinceSeq: 1 } });
    expect(bad.error?.code).to.equal(ReplyCode.BAD_REQUEST);
  });

  it('shows presence only of users the token lists when visibility is granted', async () => {
    h = await SessionHarness.create({ config: production() });
    const a = await h.login('alice', { presence: ['bob', 'team-*'] });
    await h.login('bob');
    const ok = await ask(a, { id: 1, presenceQuery: { userIds: ['alice', 'bob', 'team-7'] } });
    expect(ok.presenceResult?.users?.map((u) => [u.userId, u.online])).to.deep.equal([
      ['alice', true],
      ['bob', true],
      ['team-7', false],
    ]);
    denied(await ask(a, { id: 2, presenceQuery: { userIds: ['bob', 'carol'] } }), /presence of "carol"/);
  });

  it('shows everyone to everyone with visibility everyone (the development default)', async () => {
    h = await SessionHarness.create();
    const a = await h.login('alice');
    const r = await ask(a, { id: 1, presenceQuery: { userIds: ['carol'] } });
    expect(r.body).to.equal('presenceResult');
  });
});
