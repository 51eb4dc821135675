/**
 * docs/test-vectors/reactions.json and framing.json against a real node over TCP and WebSocket: the
 * bytes of each vector go over a real socket to a real `ferry start`, and the node's answer (frames,
 * Disconnect, close code) must be the one the vector gives.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeFrame, encodeFrame, type Frame } from '../../../src/protocol/codec.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import {
  FRAMING,
  jsonFrame,
  REACTIONS,
  vectorBytes,
  type ExpectItem,
  type ReactionVector,
  type SendItem,
} from '../../helpers/test-vectors.js';
import { WireClient } from '../../helpers/wire-client.js';

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** "RANDOM" as a client_msg_id, swapped for fresh bytes of the same length (reactions.json). */
const RANDOM_HEX = Buffer.from('RANDOM').toString('hex');

function sendItem(c: WireClient, item: SendItem, randomId: string): void {
  if ('hex' in item) c.sendRaw(vectorBytes(item.hex.replace(/\s+/g, '').replaceAll(RANDOM_HEX, randomId)));
  else if ('tcp_bytes' in item) c.sendBytes(vectorBytes(item.tcp_bytes));
  else if ('ws_zero_bytes' in item) c.sendBytes(Buffer.alloc(item.ws_zero_bytes));
  else c.sendText(item.ws_text);
}

function checkFrame(got: Frame, want: ExpectItem, label: string): void {
  if ('hex' in want) {
    expect(hexOf(encodeFrame(got)), label).to.equal(hexOf(vectorBytes(want.hex)));
    return;
  }
  expect(got.id, `${label}: id`).to.equal(want.id);
  expect(snake(got.body ?? ''), `${label}: body`).to.equal(want.body);
  const fields = (jsonFrame(got)[want.body] ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(want.fields)) {
    // Defaults are left out of the JSON form: false / 0 means "absent".
    expect(fields[k] ?? (typeof v === 'boolean' ? false : 0), `${label}: ${k}`).to.equal(v);
  }
}

function expectedId(item: ExpectItem): number {
  return 'hex' in item ? (decodeFrame(vectorBytes(item.hex), Infinity).id ?? 0) : item.id;
}

describe('docs/test-vectors against a real node (TCP and WebSocket)', function () {
  this.timeout(60_000);
  let gw: GatewayProcess;
  let configDir: string;
  let users = 0;

  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'ferry-vectors-'));
    const config = join(configDir, 'ferry.config.json');
    writeFileSync(config, JSON.stringify(REACTIONS.node_config));
    gw = await GatewayProcess.start(['--config', config]);
  });
  after(async () => {
    await gw?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  async function open(kind: 'tcp' | 'ws', authenticate: boolean): Promise<WireClient> {
    if (!authenticate) return WireClient.connect(gw.urls[kind]);
    return WireClient.login(gw.urls[kind], await testToken(`vector-user-${++users}`));
  }

  async function run(v: ReactionVector, kind: 'tcp' | 'ws'): Promise<void> {
    const c = await open(kind, v.authenticate);
    try {
      const randomId = randomBytes(3)
        .toString('hex')
        .replace(/./g, (d) => hexOf(Buffer.from(d)));
      for (const item of v.send) sendItem(c, item, randomId);
      // The first frames are the expected ones in any order (§3.1: match replies by id).
      const got: Frame[] = [];
      for (let i = 0; i < v.expect.length; i++) got.push(await c.next(() => true));
      got.sort((a, b) => a.id - b.id);
      const want = [...v.expect].sort((a, b) => expectedId(a) - expectedId(b));
      for (const [i, w] of want.entries()) checkFrame(got[i]!, w, `frame ${i}`);
      if (v.close === null) return;
      if (v.close.disconnect_frame !== false) {
        const d = await c.next(() => true);
        expect(d.body, 'the next frame').to.equal('disconnect');
        expect(d.disconnect?.code).to.equal(v.close.code);
        if (v.close.reason !== undefined) expect(d.disconnect?.reason).to.equal(v.close.reason);
      }
      const closed = await c.waitClosed(10_000);
      if (kind === 'ws') {
        expect(closed.code, 'WebSocket close code').to.equal(v.close.code);
        if (v.close.reason !== undefined) expect(closed.reason).to.equal(v.close.reason);
      }
      if (v.close.disconnect_frame === false)
        expect(c.frames.filter((f) => f.body === 'disconnect')).to.have.length(0);
    } finally {
      c.destroy();
    }
  }

  for (const v of REACTIONS.vectors) {
    for (const kind of v.transports ?? (['tcp', 'ws'] as const)) {
      it(`reactions.json: ${v.name} (${kind})`, () => run(v, kind));
    }
  }

  for (const v of FRAMING.vectors) {
    it(`framing.json: ${v.name} (TCP, one write per read)`, async () => {
      expect(FRAMING.max_frame_bytes).to.equal(
        (REACTIONS.node_config.limits as { maxFrameBytes: number }).maxFrameBytes,
      );
      const c = await open('tcp', true);
      try {
        for (const read of v.reads) c.sendBytes(vectorBytes(read));
        const code = v.error ?? v.decode_error;
        if (code !== undefined) {
          const d = await c.nextBody('disconnect');
          expect(d.disconnect?.code).to.equal(code);
          await c.waitClosed();
          return;
        }
        // The frames here are Pings (answered with a Pong of id 0), Acks and Pongs (no answer); a
        // Ping of id 99 behind them is the fence: its Pong comes after every answer to them.
        const pings = v.frames.filter((f) => vectorBytes(f)[0] === 0x82).length;
        c.sendRaw(encodeFrame({ id: 99, ping: {} }));
        const answers: Frame[] = [];
        for (let f = await c.next(() => true); f.id !== 99; f = await c.next(() => true)) answers.push(f);
        expect(answers.map((f) => `${f.id} ${f.body}`)).to.deep.equal(Array(pings).fill('0 pong'));
      } finally {
        c.destroy();
      }
    });
  }
});
