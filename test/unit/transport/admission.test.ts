import net from 'node:net';
import { expect } from 'chai';
import { Metrics } from '../../../src/observability/metrics.js';
import { Admission, AdmissionTicket, type AdmissionLimits } from '../../../src/transport/admission.js';

/** Metric values by label set, e.g. `{ 'ws/per_ip': 2 }` for ferry_connections_refused_total. */
async function values(
  metric: { get(): Promise<{ values: { labels: Record<string, string | number>; value: number }[] }> },
  keys: string[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    if (v.value !== 0) out[keys.map((k) => v.labels[k]).join('/')] = v.value;
  }
  return out;
}

function make(limits: Partial<AdmissionLimits>): { admission: Admission; metrics: Metrics } {
  const metrics = new Metrics({ defaultMetrics: false });
  return { admission: new Admission(limits, metrics), metrics };
}

function ticket(t: AdmissionTicket | string): AdmissionTicket {
  if (!(t instanceof AdmissionTicket)) throw new Error(`refused: ${t}`);
  return t;
}

describe('Admission', function () {
  it('caps client sockets per IP across transports, and frees a slot on release', async function () {
    const { admission, metrics } = make({ connectionsPerIp: 2 });
    const a = ticket(admission.admit('ws', '10.0.0.1', true));
    ticket(admission.admit('wt', '10.0.0.1', false));
    expect(admission.admit('tcp', '10.0.0.1', true)).to.equal('per_ip');
    ticket(admission.admit('tcp', '10.0.0.2', true));
    a.release();
    a.release(); // idempotent: the slot is freed once
    ticket(admission.admit('tcp', '10.0.0.1', true));
    expect(admission.admit('ws', '10.0.0.1', true)).to.equal('per_ip');
    expect(await values(metrics.connectionsRefused, ['transport', 'reason'])).to.deep.equal({
      'tcp/per_ip': 1,
      'ws/per_ip': 1,
    });
  });

  it('caps client sockets per node with server_full', function () {
    const { admission } = make({ maxConnections: 2 });
    ticket(admission.admit('ws', '10.0.0.1', true));
    ticket(admission.admit('tcp', '10.0.0.2', true));
    expect(admission.admit('wt', '10.0.0.3', false)).to.equal('server_full');
  });

  it('gives gRPC a pool of its own: client sockets do not use up gRPC slots, nor the reverse', function () {
    const { admission } = make({
      connectionsPerIp: 1,
      maxConnections: 1,
      grpcConnectionsPerIp: 2,
      grpcMaxConnections: 3,
    });
    ticket(admission.admit('tcp', '10.0.0.1', true));
    expect(admission.admit('ws', '10.0.0.9', true)).to.equal('server_full');
    ticket(admission.admit('grpc', '10.0.0.1', true));
    ticket(admission.admit('grpc', '10.0.0.1', true));
    expect(admission.admit('grpc', '10.0.0.1', true)).to.equal('per_ip');
    ticket(admission.admit('grpc', '10.0.0.2', true));
    expect(admission.admit('grpc', '10.0.0.3', true)).to.equal('server_full');
  });

  it('refuses sockets that need a descriptor beyond the budget, but not QUIC connections', function () {
    const { admission } = make({ maxSocketFds: 2 });
    const a = ticket(admission.admit('tcp', '10.0.0.1', true));
    ticket(admission.admit('grpc', '10.0.0.2', true));
    expect(admission.admit('ws', '10.0.0.3', true)).to.equal('fd_reserve');
    expect(admission.admit('grpc', '10.0.0.3', true)).to.equal('fd_reserve');
    ticket(admission.admit('wt', '10.0.0.3', false));
    expect(admission.stats().fds).to.deep.equal({ used: 2, max: 2 });
    a.release();
    ticket(admission.admit('ws', '10.0.0.3', true));
  });

  it('lets no address hold more than half the descriptor budget, over both pools', function () {
    const { admission } = make({ maxSocketFds: 6 });
    ticket(admission.admit('tcp', '10.0.0.1', true));
    ticket(admission.admit('grpc', '10.0.0.1', true));
    ticket(admission.admit('ws', '10.0.0.1', true));
    expect(admission.admit('grpc', '10.0.0.1', true)).to.equal('per_ip');
    ticket(admission.admit('wt', '10.0.0.1', false)); // no descriptor of its own
    ticket(admission.admit('tcp', '10.0.0.2', true));
  });

  it('reports the per-IP refusal before server_full and fd_reserve', function () {
    const { admission } = make({ connectionsPerIp: 1, maxConnections: 1, maxSocketFds: 2 });
    ticket(admission.admit('tcp', '10.0.0.1', true));
    expect(admission.admit('tcp', '10.0.0.1', true)).to.equal('per_ip');
    expect(admission.admit('tcp', '10.0.0.2', true)).to.equal('server_full');
  });

  it('tracks each socket by transport and phase in ferry_sockets and /stats', async function () {
    const { admission, metrics } = make({});
    const ws = ticket(admission.admit('ws', '10.0.0.1', true));
    const wt = ticket(admission.admit('wt', '10.0.0.1', false));
    ticket(admission.admit('grpc', '10.0.0.2', true));
    ws.authenticated();
    ws.authenticated(); // idempotent
    wt.release();
    wt.authenticated(); // after release: no effect
    expect(await values(metrics.sockets, ['transport', 'phase'])).to.deep.equal({
      'ws/authenticated': 1,
      'grpc/pre_auth': 1,
    });
    const stats = admission.stats();
    expect(stats.sockets.ws).to.deep.equal({ pre_auth: 0, authenticated: 1 });
    expect(stats.sockets.wt).to.deep.equal({ pre_auth: 0, authenticated: 0 });
    expect(stats.addresses).to.deep.equal({ client: 1, grpc: 1 });
    ws.release();
    expect(await values(metrics.sockets, ['transport', 'phase'])).to.deep.equal({ 'grpc/pre_auth': 1 });
  });

  describe('handshake deadline', function () {
    it('calls onExpire once the deadline passes and counts handshake_timeout', async function () {
      const { admission, metrics } = make({ handshakeTimeoutMs: 20 });
      const t = ticket(admission.admit('tcp', '10.0.0.1', true));
      const expired = await new Promise<string>((resolve) => t.startDeadline(resolve, 'the socket'));
      expect([expired, t.timedOut]).to.deep.equal(['the socket', true]);
      expect(await values(metrics.connectionsRefused, ['transport', 'reason'])).to.deep.equal({
        'tcp/handshake_timeout': 1,
      });
    });

    it('does not fire after endDeadline, authenticated or release', async function () {
      const { admission, metrics } = make({ handshakeTimeoutMs: 20 });
      const fired: string[] = [];
      const ended = ticket(admission.admit('ws', '10.0.0.1', true));
      ended.startDeadline((s: string) => fired.push(s), 'ended');
      ended.endDeadline();
      const authed = ticket(admission.admit('ws', '10.0.0.1', true));
      authed.startDeadline((s: string) => fired.push(s), 'authenticated');
      authed.authenticated();
      const released = ticket(admission.admit('ws', '10.0.0.1', true));
      released.startDeadline((s: string) => fired.push(s), 'released');
      released.release();
      // A later ticket's deadline (same duration, armed last) fires after all three would have.
      const last = ticket(admission.admit('ws', '10.0.0.2', true));
      await new Promise<void>((resolve) => last.startDeadline(() => resolve(), null));
      expect(fired).to.deep.equal([]);
      expect(await values(metrics.connectionsRefused, ['transport', 'reason'])).to.deep.equal({
        'ws/handshake_timeout': 1,
      });
    });
  });

  describe('refuseSocket', function () {
    let server: net.Server;
    let port: number;
    let serverSockets: net.Socket[];
    beforeEach(async function () {
      serverSockets = [];
      server = net.createServer((s) => serverSockets.push(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterEach(async function () {
      for (const s of serverSockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    /** Connects, sends `request` and resolves with everything read until the server closed. */
    function exchange(request: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.write(request));
        let got = '';
        c.on('data', (d) => (got += d.toString()));
        c.on('end', () => {
          c.end();
          resolve(got);
        });
        c.on('error', reject);
      });
    }

    async function accepted(n: number): Promise<net.Socket> {
      while (serverSockets.length < n) await new Promise((resolve) => server.once('connection', resolve));
      return serverSockets[n - 1]!;
    }

    it('delivers the answer although the client had already sent a request, then closes', async function () {
      const { admission } = make({});
      const reply = exchange('GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
      const socket = await accepted(1);
      // The request is in the socket's receive buffer: a plain close here would reset the connection.
      await new Promise((resolve) => socket.once('readable', resolve));
      admission.refuseSocket(socket, 'HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n');
      expect(await reply).to.equal('HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n');
      await new Promise((resolve) => (socket.destroyed ? resolve(null) : socket.once('close', resolve)));
    });

    it('closes refused sockets unanswered once maxLingeringRefusals are lingering', async function () {
      const MAX_LINGERING_REFUSALS = 8;
      const { admission } = make({ maxLingeringRefusals: MAX_LINGERING_REFUSALS });
      const clients: net.Socket[] = [];
      for (let i = 0; i <= MAX_LINGERING_REFUSALS; i++) {
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => {});
        clients.push(c);
      }
      for (let i = 1; i <= MAX_LINGERING_REFUSALS; i++) admission.refuseSocket(await accepted(i), 'no\n');
      const last = await accepted(MAX_LINGERING_REFUSALS + 1);
      admission.refuseSocket(last, 'no\n');
      expect(last.destroyed).to.equal(true);
      expect(serverSockets.slice(0, MAX_LINGERING_REFUSALS).every((s) => !s.destroyed)).to.equal(true);
      for (const c of clients) c.destroy();
    });
  });

  it('refuses an address whose connections keep getting cut for abuse, for client ports only', async function () {
    const metrics = new Metrics({ defaultMetrics: false });
    let now = 0;
    const bans: [string, number][] = [];
    const admission = new Admission(
      { penalty: { threshold: 2, windowMs: 10_000, firstBanMs: 1000, maxBanMs: 60_000 } },
      metrics,
      (address, ms) => bans.push([address, ms]),
      () => now,
    );
    for (let i = 0; i < 3; i++) {
      const t = ticket(admission.admit('tcp', '10.0.0.9', true));
      t.closing(4500); // bad frame
      t.release();
    }
    expect(bans).to.deep.equal([['10.0.0.9', 1000]]);
    expect(admission.admit('ws', '10.0.0.9', true)).to.equal('abuse');
    expect(admission.admit('wt', '10.0.0.9', false)).to.equal('abuse');
    ticket(admission.admit('grpc', '10.0.0.9', true)); // API-key callers are judged per call
    ticket(admission.admit('tcp', '10.0.0.10', true)); // another address is not touched
    // An orderly close (kick, go-away) never counts.
    const orderly = ticket(admission.admit('tcp', '10.0.0.10', true));
    for (let i = 0; i < 10; i++) orderly.closing(4001);
    now = 1000;
    ticket(admission.admit('tcp', '10.0.0.9', true));
    expect(await values(metrics.connectionsRefused, ['transport', 'reason'])).to.deep.equal({
      'ws/abuse': 1,
      'wt/abuse': 1,
    });
    expect(admission.stats().penalized).to.equal(1);
  });
});
