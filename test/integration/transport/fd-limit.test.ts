import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TcpTestClient, WsTestClient } from '../../helpers/transport-clients.js';

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
