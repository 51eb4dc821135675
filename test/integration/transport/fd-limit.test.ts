import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DisconnectCode } from '../../../src/errors.js';
import { decodeFrame, type Frame } from '../../../src/protocol/codec.js';
import { StreamFrameReader } from '../../../src/protocol/stream-reader.js';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { TcpTestClient, WsTestClient } from '../../helpers/transport-clients.js';
import { WireClient } from '../../helpers/wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

/**
 * At the process's file-descriptor limit (20,000 on this host) accept() fails with EMFILE. libuv
 * then sheds the pending connections itself (it closes a reserved descriptor, accepts and closes
 * them: the client sees an immediate close) and only reports an 'error' on the server when even
 * that fails; unhandled, that error would end the process. Each listener runs here in a child whose
 * limit is lowered with `ulimit -n` so a few dozen sockets reach it; the child must shed, survive,
 * and serve again once descriptors are free. (The 'error' path itself is unit-tested in
 * test/unit/transport/listener-support.test.ts.)
 */

/** Node + tsx need about 30 descriptors before the first socket; this leaves room for a few more. */
const FD_LIMIT = 64;
const FLOOD = 120;

const src = (path: string): string => fileURLToPath(new URL(`../../../src/${path}`, import.meta.url));

const CHILD = `
const { TcpListener } = await import(${JSON.stringify(src('transport/tcp/tcp-listener.ts'))});
const { WebSocketListener } = await import(${JSON.stringify(src('transport/websocket/ws-listener.ts'))});
const { silentLogger } = await import(${JSON.stringify(src('observability/logger.ts'))});
const logger = silentLogger();
const echo = (conn) =>
  conn.setHandler({ onData: (b) => conn.write(b), onDatagram() {}, onDrain() {}, onClose() {} });
const common = { host: '127.0.0.1', port: 0, tls: null, onConnection: echo, logger };
const tcp = await new TcpListener(common).listen();
const ws = await new WebSocketListener({ ...common, maxPayloadBytes: 1024 }).listen();
process.stdout.write(JSON.stringify({ tcp: tcp.port, ws: ws.port }) + '\\n');
`;

/** Resolves with the child's first stdout line, parsed as JSON. */
function firstLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      buffered += s;
      const nl = buffered.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(buffered.slice(0, nl)) as T);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before it listened`)));
  });
}

/**
 * Opens `count` plain TCP connections at once and resolves when the server has shed at least one
 * (closed it right after accept), with all sockets; the others stay open and keep the fds taken.
 */
function flood(port: number, count: number): Promise<net.Socket[]> {
  return new Promise((resolve) => {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < count; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      s.on('close', () => resolve(sockets));
      sockets.push(s);
    }
  });
}

async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function echoOnce(kind: 'tcp' | 'ws', port: number): Promise<string> {
  const c =
    kind === 'tcp'
      ? await TcpTestClient.connect(port)
      : await WsTestClient.connect(`ws://127.0.0.1:${port}/ws`);
  try {
    c.send(Buffer.from('again'));
    return (await c.waitForBytes(5)).toString();
  } finally {
    c.destroy();
  }
}

describe('listeners at the file-descriptor limit', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let stderr = '';

  before(function () {
    child = spawn(
      'bash',
      [
        '-c',
        `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`,
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        CHILD,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  });

  after(function () {
    child.kill('SIGKILL');
  });

  it('sheds connections past the limit without crashing, then serves again', async function () {
    const ports = await firstLine<{ tcp: number; ws: number }>(child);
    for (const [kind, port] of [
      ['tcp', ports.tcp],
      ['ws', ports.ws],
    ] as const) {
      const sockets = await flood(port, FLOOD);
      expect(child.exitCode, `child exited: ${stderr}`).to.equal(null);
      for (const s of sockets) s.destroy();
      // Descriptors come back as the child sees the closes; then a real client works again.
      expect(await retry(() => echoOnce(kind, port))).to.equal('again');
    }
    expect(child.exitCode, `child exited: ${stderr}`).to.equal(null);
  });
});

/**
 * A whole node near its open-file limit (`ulimit -n`): admission keeps `limits.reservedFds` for the
 * node's own work and refuses sockets beyond the rest readably (4008), and no one address may hold
 * more than half of that budget, so a login from elsewhere gets in while one address holds all it can.
 */
describe('a gateway node near its file-descriptor limit (fd reserve)', function () {
  this.timeout(60_000 * TIME_FACTOR);
  /** The node needs about 25 descriptors of its own; 64 leave room for admin requests and logs. */
  const NODE_FD_LIMIT = 160;
  const RESERVED = 64;
  const BUDGET = NODE_FD_LIMIT - RESERVED;
  const PER_IP = BUDGET / 2;
  let gw: GatewayProcess;
  let bystanders: Bystanders;
  const held: net.Socket[] = [];

  before(async function () {
    gw = await GatewayProcess.start(['--reserved-fds', String(RESERVED), '--auth-deadline', '60s'], {
      fdLimit: NODE_FD_LIMIT,
    });
    bystanders = await Bystanders.start(gw.urls);
    await bystanders.exchange();
  });
  after(async function () {
    for (const s of held) s.destroy();
    bystanders?.destroy();
    await gw?.cleanup();
  });

  async function fds(): Promise<{ used: number; max: number }> {
    const stats = JSON.parse((await gw.admin('/stats')).body) as {
      admission: { fds: { used: number; max: number } };
    };
    return stats.admission.fds;
  }

  it('lets one address hold half the budget, then refuses beyond the reserve with 4008, and keeps serving', async function () {
    const port = Number(new URL(gw.urls.tcp).port);
    expect(await fds()).to.deep.equal({ used: 2, max: BUDGET });

    // One address takes all it can: half the budget, then 4007.
    const first = await openIdle(port, '127.0.0.3', PER_IP);
    held.push(...first);
    const overIp = await openIdle(port, '127.0.0.3', 1);
    expect((await disconnectOf(overIp[0]!)).code).to.equal(DisconnectCode.CONNECTION_LIMIT);
    const elsewhere = await WireClient.login(gw.urls.tcp, await testToken('fd-elsewhere'), {
      localAddress: '127.0.0.2',
    });
    expect(await fds()).to.deep.equal({ used: 2 + PER_IP + 1, max: BUDGET });

    // A second address fills the rest of the budget: the next socket from anywhere gets 4008.
    held.push(...(await openIdle(port, '127.0.0.4', BUDGET - (2 + PER_IP + 1))));
    const overFds = await openIdle(port, '127.0.0.5', 1);
    expect(await disconnectOf(overFds[0]!)).to.deep.include({
      code: DisconnectCode.SERVER_FULL,
      reason: 'server is full',
      reconnect: true,
    });
    const refused = await WireClient.login(gw.urls.tcp, await testToken('fd-late'), {
      localAddress: '127.0.0.2',
    }).then(
      () => 'logged in',
      (err: Error) => err.message,
    );
    expect(refused).to.equal('auth refused: 4008 server is full');

    // The node's own work goes on: admin requests, existing sessions, metrics.
    await bystanders.exchange();
    elsewhere.send({ ping: { timestampMs: 1 } });
    await elsewhere.nextBody('pong');
    const metrics = (await gw.admin('/metrics')).body;
    expect(metrics).to.match(/ferry_connections_refused_total\{transport="tcp",reason="fd_reserve"\} 2\n/);
    expect(metrics).to.match(/ferry_connections_refused_total\{transport="tcp",reason="per_ip"\} 1\n/);
    expect(gw.proc.exitCode).to.equal(null);
    elsewhere.close();
  });
});

/** Opens `n` plain TCP sockets from `localAddress`, one after another (so the server decides them in order). */
async function openIdle(port: number, localAddress: string, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    out.push(s);
  }
  return out;
}

/** The Disconnect frame a refused socket received before the server closed it. */
async function disconnectOf(socket: net.Socket): Promise<NonNullable<Frame['disconnect']>> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => socket.once('close', resolve));
  const frames: Frame[] = [];
  new StreamFrameReader(1 << 20).push(Buffer.concat(chunks), (body) =>
    frames.push(decodeFrame(body, Infinity)),
  );
  const d = frames[0]?.disconnect;
  if (d === undefined || d === null) throw new Error(`no Disconnect frame (got ${chunks.length} chunks)`);
  return d;
}
