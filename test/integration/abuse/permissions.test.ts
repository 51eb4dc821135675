import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Frame } from '../../../src/protocol/codec.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import { API_KEY_FLAGS, accessClient, callUnary } from '../access/support.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

/** The answer (frame with the request's id) to one request. */
async function ask(c: WireClient, frame: Parameters<WireClient['send']>[0]): Promise<Frame> {
  const id = c.send(frame);
  return c.next((f) => f.id === id);
}

function expectDenied(f: Frame, pattern: RegExp): void {
  expect(f.body, JSON.stringify(f)).to.equal('error');
  expect(f.error?.code, f.error?.message ?? '').to.equal(103);
  expect(f.error?.message).to.match(pattern);
}

/** The topic rules the production-like node runs with (docs/security.md examples). */
const RULES = {
  news: { subscribe: 'any', history: 'any' },
  'chat:*': { subscribe: 'grant', publish: 'subscriber', history: 'grant' },
  'inbox:{user}': { subscribe: 'any', history: 'any' },
};

describe('abuse: who may read and write which topic, and whose presence', function () {
  this.timeout(60_000);
  let gw: GatewayProcess;
  let configDir: string;
  let bystanders: Bystanders;
  const clients: WireClient[] = [];
  const login = async (user: string, claims?: Record<string, unknown>): Promise<WireClient> => {
    const c = await WireClient.login(gw.urls.tcp, await testToken(user, { claims }));
    clients.push(c);
    return c;
  };

  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'ferry-perms-'));
    const config = join(configDir, 'ferry.config.json');
    writeFileSync(config, JSON.stringify({ topics: { rules: RULES } }));
    // A production-like node: a configured secret, so topics without a rule and presence are closed.
    gw = await GatewayProcess.start(['--config', config, ...API_KEY_FLAGS], { grpc: true });
    bystanders = await Bystanders.start(gw.urls, 'perm-bystander');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await bystanders.exchange();
  });
  after(async () => {
    bystanders.destroy();
    await gw.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('refuses a topic no rule opens, and its retained history, with 103 naming the topic', async () => {
    const owner = await login('owner', { topics: ['chat:private'] });
    await ask(owner, { subscribe: { topic: 'chat:private' } });
    const ack = await ask(owner, {
      publish: { topic: 'chat:private', payload: bytes('secret'), qos: 1, clientMsgId: 's1' },
    });
    expect(ack.body).to.equal('sendAck');
    const mallory = await login('mallory');
    expectDenied(await ask(mallory, { subscribe: { topic: 'chat:private', sinceSeq: 0 } }), /"chat:private"/);
    expectDenied(
      await ask(mallory, { subscribe: { topic: 'chat:private', fromStart: true } }),
      /"chat:private"/,
    );
    expectDenied(await ask(mallory, { subscribe: { topic: 'unlisted' } }), /"unlisted"/);
    expectDenied(
      await ask(mallory, { publish: { topic: 'chat:private', payload: bytes('x') } }),
      /"chat:private"/,
    );
    expect(mallory.frames.filter((f) => f.body === 'deliver')).to.have.length(0);
  });

  it('refuses client publishes to the reserved $all topic; the access API still broadcasts to it', async () => {
    const listener = await login('listener');
    expect((await ask(listener, { subscribe: { topic: '$all' } })).body).to.equal('reply');
    const mallory = await login('mallory');
    const p = await ask(mallory, {
      publish: { topic: '$all', payload: bytes('fake'), qos: 1, clientMsgId: 'f1' },
    });
    expectDenied(p, /reserved/);
    const client = accessClient(gw.urls.grpc);
    try {
      await callUnary(client, 'Broadcast', { everyone: true, payload: Buffer.from('real'), qos: 0 });
    } finally {
      client.close();
    }
    const d = await listener.nextBody('deliver');
    expect(text(d.deliver?.payload)).to.equal('real');
  });

  it('opens a private topic to a user holding a grant: token claim or subscription token from the access API', async () => {
    const alice = await login('alice', { topics: ['chat:team-*'] });
    const bob = await login('bob');
    expect((await ask(alice, { subscribe: { topic: 'chat:team-1' } })).body).to.equal('reply');
    expectDenied(await ask(bob, { subscribe: { topic: 'chat:team-1' } }), /grant/);
    const client = accessClient(gw.urls.grpc);
    let forBob: string;
    let forCarol: string;
    try {
      forBob = String(
        (await callUnary(client, 'IssueSubscriptionToken', { userId: 'bob', topic: 'chat:team-1' })).token,
      );
      forCarol = String(
        (await callUnary(client, 'IssueSubscriptionToken', { userId: 'carol', topic: 'chat:team-1' })).token,
      );
    } finally {
      client.close();
    }
    expectDenied(await ask(bob, { subscribe: { topic: 'chat:team-1', token: forCarol } }), /another user/);
    expect((await ask(bob, { subscribe: { topic: 'chat:team-1', token: forBob } })).body).to.equal('reply');
    // Publish is for subscribers: bob now is one.
    const sent = await ask(bob, { publish: { topic: 'chat:team-1', payload: bytes('hi team') } });
    expect(sent.body).to.equal('sendAck');
    expect(text((await alice.nextBody('deliver')).deliver?.payload)).to.equal('hi team');
    // A subscription token cannot open a connection.
    const c = await WireClient.connect(gw.urls.tcp);
    clients.push(c);
    c.send({ authenticate: { token: forBob } });
    expect((await c.nextBody('disconnect')).disconnect?.code).to.equal(4504);
  });

  it('gives each user their own inbox topic with {user}, and replays it from the first offset', async () => {
    const owner = await login('olga');
    const client = accessClient(gw.urls.grpc);
    try {
      for (const n of [1, 2]) {
        const res = await callUnary(client, 'Broadcast', {
          topic: 'inbox:olga',
          payload: Buffer.from(`note ${n}`),
          qos: 1,
          clientMsgId: `n${n}`,
        });
        expect(Number(res.seq)).to.equal(n);
      }
    } finally {
      client.close();
    }
    expect((await ask(owner, { subscribe: { topic: 'inbox:olga', fromStart: true } })).body).to.equal(
      'reply',
    );
    const first = await owner.nextBody('deliver');
    expect([Number(first.deliver?.seq), text(first.deliver?.payload)]).to.deep.equal([1, 'note 1']);
    expect(Number((await owner.nextBody('deliver')).deliver?.seq)).to.equal(2);
    const other = await login('peter');
    expectDenied(await ask(other, { subscribe: { topic: 'inbox:olga' } }), /"inbox:olga"/);
  });

  it('shows presence only of users the token lists (presence.visibility granted in production)', async () => {
    await login('hidden-user');
    const friend = await login('friend', { presence: ['hidden-user'] });
    const stranger = await login('stranger');
    expectDenied(
      await ask(stranger, { presenceQuery: { userIds: ['hidden-user'] } }),
      /presence of "hidden-user"/,
    );
    const r = await ask(friend, { presenceQuery: { userIds: ['hidden-user'] } });
    expect(r.presenceResult?.users?.[0]?.online).to.equal(true);
  });
});

describe('abuse: a development node says what it leaves open', function () {
  this.timeout(30_000);
  it('prints the open development defaults in its banner', async () => {
    // No --auth-secret: the node generates its development secret, and `auto` settings are open.
    const gw = await GatewayProcess.start([], { authSecret: false });
    try {
      const stderr = await gw.waitForStderr('Stop:');
      expect(stderr).to.match(
        /Open: +every user may subscribe, publish and read history on topics no rule names \(development default\)/,
      );
      expect(stderr).to.match(/every user may see every user's presence \(development default\)/);
    } finally {
      await gw.cleanup();
    }
  });
});
