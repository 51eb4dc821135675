// Two users talk through a running Ferry node over WebSocket, using only the package's codec.
//   npm start                      (in one terminal)
//   node examples/hello.mjs        (in another; FERRY_WS_URL overrides ws://127.0.0.1:8080/ws)
// Tokens come from `ferry token`, which signs with the same dev secret the node uses.
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../dist/index.js';

const url = process.env.FERRY_WS_URL ?? 'ws://127.0.0.1:8080/ws';
const token = (user) =>
  execFileSync(process.execPath, ['bin/ferry.js', 'token', '--user', user]).toString().trim();

function connect(user) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    ws.once('error', reject);
    ws.once('open', () =>
      ws.send(encodeFrame({ id: 1, authenticate: { token: token(user), deviceId: 'example' } })),
    );
    ws.on('message', (data) => {
      const frame = decodeFrame(data, 1 << 20);
      if (frame.body === 'authResult') resolve(ws);
      if (frame.body === 'disconnect')
        reject(new Error(`refused: ${frame.disconnect.code} ${frame.disconnect.reason}`));
      ws.emit('frame', frame);
    });
  });
}

const alice = await connect('alice');
const bob = await connect('bob');
bob.on('frame', (f) => {
  if (f.body !== 'deliver') return;
  console.log(
    `bob got "${Buffer.from(f.deliver.payload)}" from ${f.deliver.fromUser} (seq ${f.deliver.seq})`,
  );
  bob.send(encodeFrame({ ack: { seq: f.deliver.seq } }));
  alice.close();
  bob.close();
});
alice.on('frame', (f) => {
  if (f.body === 'sendAck') console.log(`alice: stored as ${f.sendAck.serverId}, seq ${f.sendAck.seq}`);
});
alice.send(
  encodeFrame({
    id: 2,
    send: { toUser: 'bob', payload: Buffer.from('hello, bob'), qos: 1, clientMsgId: `hello-${Date.now()}` },
  }),
);
