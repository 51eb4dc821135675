import { expect } from 'chai';
import { FerryClient } from '../../../client/src/client.js';
import { NodeList } from '../../../client/src/node-list.js';
import { resolveOptions } from '../../../client/src/options.js';
import { MemoryStorage } from '../../../client/src/transport-memory.js';
import { FakeNetwork, type FakeServerConn } from './fake-transport.js';

const FAST = { initialMs: 1, maxMs: 5, jitter: 0 };
const A = 'ws://a/ws';
const B = 'ws://b/ws';

describe('client node list', function () {
  it('resolves a list of nodes from Endpoints and URLs, and refuses lists it cannot use', function () {
    const r = resolveOptions({ endpoints: [{ wt: 'https://a/wt', ws: A }, 'tcp://b:7000'], token: 't' }, [
      'wt',
      'ws',
      'tcp',
    ]);
    expect(r.nodes).to.deep.equal([{ wt: 'https://a/wt', ws: A }, { tcp: 'tcp://b:7000' }]);
    expect(r.transports).to.deep.equal(['wt', 'ws', 'tcp']);
    expect(() => resolveOptions({ endpoints: [], token: 't' }, ['ws'])).to.throw(TypeError, /at least one/);
    expect(() => resolveOptions({ endpoints: [A], url: B, token: 't' }, ['ws'])).to.throw(
      TypeError,
      /not both/,
    );
    expect(() => resolveOptions({ endpoints: [A, 'tcp://b:1'], token: 't' }, ['ws'])).to.throw(
      TypeError,
      /endpoints for the chosen transports/,
    );
    expect(() => resolveOptions({ endpoints: ['ftp://x'], token: 't' }, ['ws'])).to.throw(
      TypeError,
      /scheme/,
    );
  });

  it('starts at the current node and wraps; redirects to a listed node or replaces the endpoint', function () {
    const nodes = new NodeList([{ ws: A }, { ws: B }, { ws: 'ws://c/ws' }]);
    expect(nodes.order()).to.deep.equal([0, 1, 2]);
    nodes.use(2);
    expect(nodes.order()).to.deep.equal([2, 0, 1]);
    nodes.advance();
    expect(nodes.index).to.equal(0);
    nodes.redirect(B);
    expect(nodes.index).to.equal(1);
    nodes.redirect('ws://elsewhere/ws');
    expect(nodes.current).to.deep.equal({ ws: 'ws://elsewhere/ws' });
    nodes.redirect('gopher://x');
    expect(nodes.current).to.deep.equal({ ws: 'ws://elsewhere/ws' });
    expect(nodes.size).to.equal(3);
    expect(new NodeList([{ wt: 'https://a/wt', ws: A }]).key()).to.equal(`https://a/wt|${A}|`);
  });
});

describe('client across nodes (fake transport)', function () {
  const clients: FerryClient[] = [];
  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function make(
    net: FakeNetwork,
    endpoints: (string | { wt?: string; ws?: string })[],
    storage = new MemoryStorage(),
  ) {
    const c = new FerryClient(
      { endpoints, token: 't', backoff: FAST, ackDelayMs: 1, storage },
      { ws: net.factory('ws'), wt: net.factory('wt') },
      ['wt', 'ws'],
    );
    clients.push(c);
    const attempts: string[] = [];
    c.on('transport', (t) => attempts.push(`${t.url}:${t.ok}`));
    return { c, attempts };
  }

  async function open(net: FakeNetwork, c: FerryClient, started?: Promise<void>): Promise<FakeServerConn> {
    const conn = net.nextConn();
    const s = started ?? c.whenOpen();
    const server = await conn;
    await server.accept();
    await s;
    return server;
  }

  it('moves to the next node when the current one is down, and stays there', async function () {
    const net = new FakeNetwork();
    const { c, attempts } = make(net, [A, B]);
    const first = await open(net, c, c.start());
    expect(first.url).to.equal(A);
    net.refuseUrls.add(A);
    const sending = c.send('bob', 'across');
    const next = net.nextConn();
    first.end(1006, '');
    const second = await next;
    expect(second.url).to.equal(B);
    await second.accept();
    const f = await second.next('send');
    second.send({ id: f.id, sendAck: { clientMsgId: f.send!.clientMsgId, seq: 1 } });
    expect((await sending).seq).to.equal(1);
    expect(c.connection?.url).to.equal(B);
    net.refuseUrls.delete(A);
    const third = net.nextConn();
    second.end(1006, '');
    const thirdConn = await third;
    expect(thirdConn.url, 'sticks to the node that worked').to.equal(B);
    await thirdConn.accept();
    await c.whenOpen();
    expect(attempts).to.deep.equal([`${A}:true`, `${A}:false`, `${B}:true`, `${B}:true`]);
  });

  it('goes straight to the next node after 4001 GOING_AWAY', async function () {
    const net = new FakeNetwork();
    const { c, attempts } = make(net, [A, B]);
    const first = await open(net, c, c.start());
    const next = net.nextConn();
    first.end(4001, 'draining', { code: 4001, reason: 'draining', reconnect: true, reconnectDelayMs: 1 });
    const second = await next;
    expect(second.url).to.equal(B);
    await second.accept();
    await c.whenOpen();
    expect(attempts).to.deep.equal([`${A}:true`, `${B}:true`]);
  });

  it('does not remember a fallback because a node was down', async function () {
    const net = new FakeNetwork();
    const storage = new MemoryStorage();
    net.refuseUrls.add('https://a/wt');
    const { c } = make(net, [{ wt: 'https://a/wt' }, { ws: B }], storage);
    expect((await open(net, c, c.start())).url).to.equal(B);
    net.refuseUrls.clear();
    const { c: c2 } = make(net, [{ wt: 'https://a/wt' }, { ws: B }], storage);
    expect((await open(net, c2, c2.start())).url).to.equal('https://a/wt');
  });
});
