/**
 * The Python reference client (examples/python/, written from docs/protocol.md alone) against a real
 * `ferry start`: it runs docs/test-vectors/ (its codec offline, the reactions over TCP and WebSocket),
 * then interop.py's scenario (auth, QoS 0/1 with acks, dedup, topics, presence, Pings, an idle cut
 * and the reconnect that resumes with last_seq and since_seq, 4505, 4504, a drain's go-away). It
 * mints its tokens from the node's dev secret file as README says. Debian's python3-websockets is
 * installed by scripts/ensure-tools.mjs for /usr/bin/python3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { REACTIONS } from '../../helpers/test-vectors.js';

const PYTHON = '/usr/bin/python3';
const CLIENT_DIR = fileURLToPath(new URL('../../../examples/python/', import.meta.url));

interface Run {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Runs a Python module or script in examples/python/; `onLine` sees each JSON line as it comes. */
function runPython(args: string[], onLine: (line: Record<string, unknown>) => void = () => {}): Promise<Run> {
  const proc = spawn(PYTHON, args, { cwd: CLIENT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: proc.stdout }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { text };
    }
    lines.push(line);
    onLine(line);
  });
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, lines, stderr })));
}

describe('the Python reference client against a real node', function () {
  this.timeout(120_000);
  let gw: GatewayProcess;
  let configDir: string;
  let endpoints: string[];

  before(async function () {
    const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { encoding: 'utf8' });
    if (probe.status !== 0)
      throw new Error(`${PYTHON} lacks websockets: apt-get install python3-websockets\n${probe.stderr}`);
    configDir = mkdtempSync(join(tmpdir(), 'ferry-python-'));
    const config = join(configDir, 'ferry.config.json');
    writeFileSync(config, JSON.stringify(REACTIONS.node_config));
    // The dev secret (no --auth-secret): the client mints tokens from the file, as README says.
    // A short heartbeat and idle timeout make the Ping and idle-cut steps quick.
    gw = await GatewayProcess.start(['--config', config, '--heartbeat', '500ms', '--idle-timeout', '2s'], {
      authSecret: false,
    });
    endpoints = ['--tcp', gw.urls.tcp, '--ws', gw.urls.ws, '--secret-file', join(gw.dataDir, 'dev-secret')];
  });
  after(async () => {
    await gw?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('passes every test vector: its codec offline, the reactions of the node over TCP and WebSocket', async () => {
    const run = await runPython(['-m', 'ferry_client.vectors', ...endpoints]);
    expect(run.code, `${JSON.stringify(run.lines)}\n${run.stderr}`).to.equal(0);
    const summary = run.lines.at(-1)!;
    expect(summary.vectors_failed).to.equal(0);
    const reactions = REACTIONS.vectors.reduce((n, v) => n + (v.transports ?? ['tcp', 'ws']).length, 0);
    expect(summary.vectors_passed as number).to.be.greaterThan(reactions + 100);
  });

  it('runs the whole client scenario, ending with the go-away of a drain', async () => {
    let drained: Promise<number | null> | null = null;
    const run = await runPython(['interop.py', ...endpoints, '--drain'], (line) => {
      if (line.step === 'await-drain') drained = gw.terminate();
    });
    expect(run.code, `${JSON.stringify(run.lines)}\n${run.stderr}`).to.equal(0);
    expect(run.lines.map((l) => l.step)).to.deep.equal([
      'authenticate',
      'qos1',
      'qos0',
      'topics',
      'pings',
      'reconnect',
      'replaced',
      'bad-token',
      'await-drain',
      'drain',
      'done',
    ]);
    expect(run.lines.every((l) => l.ok === true)).to.equal(true);
    expect(await drained).to.equal(0);
  });
});
