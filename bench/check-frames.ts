/**
 * Cross-checks bench/lib/frames.ts (the hand-written encoder the load generator and the baseline use)
 * against Ferry's protobufjs codec, both ways, so that the bench measures valid traffic:
 *
 *   node --import tsx bench/check-frames.ts        (exits 1 on a mismatch)
 */
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import {
  BODY,
  FieldReader,
  SendEncoder,
  encodeAck,
  encodeAuthResult,
  encodeAuthenticate,
  encodeDeliver,
  encodeDisconnect,
  encodePong,
  encodeSendAck,
  readFrame,
  type FrameView,
} from './lib/frames.js';

const MAX = 1 << 20;

// Client frames the load generator writes decode in Ferry as intended.
const auth = decodeFrame(encodeAuthenticate(7, 'tok', false, 'dev'), MAX);
assert.equal(auth.id, 7);
assert.equal(auth.authenticate?.token, 'tok');
assert.equal(auth.authenticate?.deviceId, 'dev');

for (const [qos, cmid, size] of [
  [0, '', 17],
  [1, 'run-12345', 100],
  [1, 'x', 300],
] as const) {
  const [buf, at] = new SendEncoder('user-42', size, qos, false).encode(300, cmid);
  buf.fill(0x61, at, at + size);
  const f = decodeFrame(buf, MAX);
  assert.equal(f.id, 300);
  assert.equal(f.send?.toUser, 'user-42');
  assert.equal(f.send?.payload?.length, size);
  assert.equal(f.send?.qos ?? 0, qos);
  assert.equal(f.send?.clientMsgId ?? '', cmid);
  // Prefixed (TCP) form: same body after a u32-BE length.
  const [p] = new SendEncoder('user-42', size, qos, true).encode(300, cmid);
  assert.equal(p.readUInt32BE(0), buf.length);
}
assert.equal(decodeFrame(encodeAck(2 ** 40, false), MAX).ack?.seq, 2 ** 40);
const pong = decodeFrame(encodePong(9, 1_700_000_000_123, false), MAX);
assert.equal(pong.id, 9);
assert.equal(pong.pong?.timestampMs, 1_700_000_000_123);
assert.equal(decodeFrame(encodeDisconnect(4000, 'bye', false), MAX).disconnect?.code, 4000);

// Server frames the baseline writes decode in Ferry's codec too (they are what clients would see).
const payload = Buffer.from('0123456789');
const d = decodeFrame(encodeDeliver(Buffer.from('bob'), payload, 2, 7, 1_700_000_000_000, false), MAX);
assert.equal(d.deliver?.fromUser, 'bob');
assert.equal(Buffer.from(d.deliver?.payload ?? []).toString(), '23456');
assert.equal(d.deliver?.timestampMs, 1_700_000_000_000);
assert.equal(decodeFrame(encodeSendAck(5, 1, false), MAX).sendAck?.timestampMs, 1);
assert.equal(decodeFrame(encodeAuthResult(3, Buffer.from('u1'), false), MAX).authResult?.userId, 'u1');

// Frames Ferry writes are read correctly by the bench's reader.
const reader = new FieldReader();
const view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
const ferryDeliver = Buffer.from(
  encodeFrame({
    deliver: { serverId: 's1', seq: 2 ** 33, fromUser: 'a', payload: Buffer.from('hey'), qos: 1 },
  }),
);
readFrame(reader, ferryDeliver, 0, ferryDeliver.length, view);
assert.equal(view.body, BODY.deliver);
let seq = 0;
let text = '';
reader.reset(ferryDeliver, view.start, view.end);
while (reader.next()) {
  if (reader.field === 2) seq = reader.value;
  if (reader.field === 6) text = ferryDeliver.toString('utf8', reader.lenStart, reader.lenEnd);
}
assert.equal(seq, 2 ** 33);
assert.equal(text, 'hey');
const ferryPing = Buffer.from(encodeFrame({ id: 77, ping: { timestampMs: 5 } }));
readFrame(reader, ferryPing, 0, ferryPing.length, view);
assert.deepEqual([view.id, view.body], [77, BODY.ping]);

process.stdout.write('bench/lib/frames.ts agrees with src/protocol/codec.ts\n');
