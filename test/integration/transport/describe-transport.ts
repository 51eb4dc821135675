import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type {
  Connection,
  ConnectionCallback,
  ConnectionHandler,
  Framing,
  Listener,
} from '../../../src/transport/transport.js';
import type { TestClient } from '../../helpers/transport-clients.js';

/** A listener under test, already listening, and a way to open raw clients to it. */
export interface TransportUnderTest {
  listener: Listener;
  connect(): Promise<TestClient>;
}

/** Builds and starts a listener that hands its connections to `onConnection`. */
export type TransportFactory = (onConnection: ConnectionCallback) => Promise<TransportUnderTest>;

/** Where transports differ by design; everything else is the same contract. */
export interface TransportTraits {
  /** 'message': one write = one message (WebSocket); 'stream': bytes, any chunking (TCP, WebTransport). */
  framing: Framing;
  /** The transport carries unreliable datagrams (WebTransport); the client must then implement them. */
  datagrams: boolean;
  /**
   * The close code the server's `onClose` reports after its own `close(4001, ...)`: the code the
   * client echoed (WebSocket), the session's own code (WebTransport), or 0 (TCP has none).
   */
  closeCodeSeen: number;
  /** The code `onClose` reports when the client vanishes (WebSocket 1006, TCP and WebTransport 0). */
  vanishedCode: number;
}

/** Records everything a connection reports; optionally echoes data back. */
class Recorder implements ConnectionHandler {
  readonly data: Buffer[] = [];
  readonly datagrams: Buffer[] = [];
  readonly closes: [number, string][] = [];
  drains = 0;
  bufferedAtDrain = -1;
  private waiters: (() => boolean)[] = [];

  constructor(
    readonly conn: Connection,
    private readonly echo: boolean,
  ) {}

  onData(bytes: Uint8Array): void {
    // Copy: the transport may hand out views into a larger read buffer.
    this.data.push(Buffer.from(bytes));
    if (this.echo) this.conn.write(bytes);
    this.wake();
  }
  onDatagram(bytes: Uint8Array): void {
    this.datagrams.push(Buffer.from(bytes));
    if (this.echo) this.conn.writeDatagram(bytes);
    this.wake();
  }
  onDrain(): void {
    this.drains++;
    this.bufferedAtDrain = this.conn.bufferedAmount();
    this.wake();
  }
  onClose(code: number, reason: string): void {
    this.closes.push([code, reason]);
    this.wake();
  }

  bytes(): Buffer {
    return Buffer.concat(this.data);
  }

  until(ready: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (!ready()) return false;
        resolve();
        return true;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }
}

/** The server side of a test: accepted connections, with a Recorder installed unless deferred. */
class Accepted {
  echo = false;
  deferHandler = false;
  readonly conns: Connection[] = [];
  readonly recorders: Recorder[] = [];
  private waiters: (() => void)[] = [];

  readonly onConnection: ConnectionCallback = (conn) => {
    this.conns.push(conn);
    if (!this.deferHandler) this.install(conn);
    for (const w of this.waiters.splice(0)) w();
  };

  install(conn: Connection): Recorder {
    const recorder = new Recorder(conn, this.echo);
    this.recorders.push(recorder);
    conn.setHandler(recorder);
    return recorder;
  }

  async nth(i: number): Promise<Connection> {
    while (this.conns.length <= i) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.conns[i]!;
  }

  async recorder(i: number): Promise<Recorder> {
    await this.nth(i);
    return this.recorders.find((r) => r.conn === this.conns[i])!;
  }
}

/** Deterministic pseudo-random bytes, so a failure is reproducible. */
function patternBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The contract every `Listener`/`Connection` pair must keep, run against a real listener on
 * 127.0.0.1 port 0 with raw clients. `framing` selects the checks that differ between message
 * transports (one write = one message) and stream transports (bytes, any chunking).
 */
export function describeTransport(name: string, traits: TransportTraits, factory: TransportFactory): void {
  const { framing } = traits;
  describe(`transport conformance: ${name}`, function () {
    let server: Accepted;
    let t: TransportUnderTest;
    const clients: TestClient[] = [];
    const connect = async (): Promise<TestClient> => {
      const c = await t.connect();
      clients.push(c);
      return c;
    };

    beforeEach(async function () {
      server = new Accepted();
      t = await factory(server.onConnection);
    });

    afterEach(async function () {
      for (const c of clients.splice(0)) c.destroy();
      await t.listener.close();
    });

    it('describes itself and echoes data through a handler', async function () {
      server.echo = true;
      const client = await connect();
      client.send(Buffer.from('hello ferry'));
      expect((await client.waitForBytes(11)).toString()).to.equal('hello ferry');
      const conn = await server.nth(0);
      expect(conn.framing).to.equal(framing);
      expect(conn.kind).to.equal(t.listener.kind);
      expect(conn.supportsDatagrams).to.equal(traits.datagrams);
      if (traits.datagrams) expect(conn.maxDatagramBytes).to.be.above(1000);
      else expect(conn.maxDatagramBytes).to.equal(0);
      if (!traits.datagrams) expect(conn.writeDatagram(Buffer.from('x'))).to.equal(false);
    });

    if (traits.datagrams) {
      it('carries datagrams both ways, one write each, apart from the stream', async function () {
        const client = await connect();
        const recorder = await server.recorder(0);
        // Datagrams may be lost (RFC 9221); on an idle loopback path they are not, and each one
        // is waited for before the next, so no queue can overflow.
        for (const text of ['one', 'two']) {
          const before = recorder.datagrams.length;
          expect(client.sendDatagram!(Buffer.from(text))).to.equal(true);
          await recorder.until(() => recorder.datagrams.length > before);
          expect(recorder.datagrams[before]!.toString()).to.equal(text);
        }
        expect(recorder.conn.writeDatagram(Buffer.from('three'))).to.equal(true);
        const got = await client.waitForDatagrams!(1);
        expect(got.map(String)).to.deep.equal(['three']);
        expect(recorder.bytes().length).to.equal(0);
        expect(client.received().length).to.equal(0);
      });
    }

    it('reports the client IP as remoteAddress and gives each connection its own id', async function () {
      await connect();
      await connect();
      const [a, b] = [await server.nth(0), await server.nth(1)];
      expect(a.remoteAddress).to.equal('127.0.0.1');
      expect(b.remoteAddress).to.equal('127.0.0.1');
      expect(a.id).to.not.equal(b.id);
    });

    it('keeps bytes that arrive before setHandler and delivers them in order', async function () {
      server.deferHandler = true;
      const client = await connect();
      const conn = await server.nth(0);
      client.send(Buffer.from('one'));
      client.send(Buffer.from('two'));
      await sleep(50); // let the bytes reach the server before anyone is listening
      const recorder = server.install(conn);
      await recorder.until(() => recorder.bytes().length >= 6);
      expect(recorder.bytes().toString()).to.equal('onetwo');
      if (framing === 'message') expect(recorder.data.map(String)).to.deep.equal(['one', 'two']);
    });

    it('carries many writes intact and in order, both ways', async function () {
      const client = await connect();
      const recorder = await server.recorder(0);
      const pieces = Array.from({ length: 200 }, (_, i) => patternBytes(1 + ((i * 7919) % 3000), i + 1));
      const total = pieces.reduce((n, p) => n + p.length, 0);
      for (const p of pieces) client.send(p);
      await recorder.until(() => recorder.bytes().length >= total);
      expect(recorder.bytes().equals(Buffer.concat(pieces))).to.equal(true);
      if (framing === 'message') {
        expect(recorder.data.length).to.equal(pieces.length);
        recorder.data.forEach((d, i) => expect(d.equals(pieces[i]!), `message ${i}`).to.equal(true));
      }
      for (const p of pieces) recorder.conn.write(p);
      expect((await client.waitForBytes(total)).equals(Buffer.concat(pieces))).to.equal(true);
    });

    if (framing === 'stream') {
      it('reassembles a frame split across separate client writes', async function () {
        const client = await connect();
        const recorder = await server.recorder(0);
        const body = patternBytes(1000, 42);
        const frame = Buffer.concat([Buffer.from([0, 0, 0x03, 0xe8]), body]);
        const cuts = [0, 2, 5, 600, frame.length];
        for (let i = 1; i < cuts.length; i++) {
          client.send(frame.subarray(cuts[i - 1], cuts[i]));
          // Wait for each piece, so the server really sees them as separate reads.
          await recorder.until(() => recorder.bytes().length >= cuts[i]!);
        }
        expect(recorder.bytes().equals(frame)).to.equal(true);
      });
    }

    it('close(code, reason) flushes earlier writes, then the client sees the close', async function () {
      const client = await connect();
      const recorder = await server.recorder(0);
      recorder.conn.write(Buffer.from('bye'));
      recorder.conn.close(4001, 'going away');
      recorder.conn.close(4001, 'going away'); // idempotent
      const closed = await client.closed;
      expect(client.received().toString()).to.equal('bye');
      await recorder.until(() => recorder.closes.length > 0);
      await tick();
      expect(recorder.closes).to.have.length(1);
      expect(recorder.closes[0]![0]).to.equal(traits.closeCodeSeen);
      if (traits.closeCodeSeen !== 0) expect(closed).to.deep.equal({ code: 4001, reason: 'going away' });
    });

    it('a client that vanishes gives exactly one onClose, and later calls are harmless', async function () {
      const client = await connect();
      const recorder = await server.recorder(0);
      client.destroy();
      await recorder.until(() => recorder.closes.length > 0);
      expect(recorder.closes[0]![0]).to.equal(traits.vanishedCode);
      recorder.conn.write(Buffer.from('into the void'));
      recorder.conn.close(4000, 'late');
      recorder.conn.destroy();
      await tick();
      expect(recorder.closes).to.have.length(1);
    });

    it('a client that leaves before setHandler still yields one onClose after it', async function () {
      server.deferHandler = true;
      const client = await connect();
      const conn = await server.nth(0);
      client.destroy();
      await sleep(50); // let the close reach the server before anyone is listening
      const recorder = server.install(conn);
      await recorder.until(() => recorder.closes.length > 0);
      await tick();
      expect(recorder.closes).to.have.length(1);
    });

    it('bufferedAmount grows while the client does not read, and onDrain fires when it does', async function () {
      const client = await connect();
      const recorder = await server.recorder(0);
      // A round trip first: on WebTransport the reliable channel is the client's first stream, which
      // the server only has once its first bytes arrived (writes before that are held, up to 64 KiB).
      client.send(Buffer.from('x'));
      await recorder.until(() => recorder.bytes().length >= 1);
      client.pause();
      const chunk = patternBytes(64 * 1024, 7);
      let written = 0;
      // Fill the kernel buffers on both ends until bytes back up in the transport, well past the
      // socket's high-water mark so that a 'drain' is owed.
      while (recorder.conn.bufferedAmount() < 256 * 1024 && written < 256 * 1024 * 1024) {
        recorder.conn.write(chunk);
        written += chunk.length;
      }
      expect(recorder.conn.bufferedAmount()).to.be.greaterThan(0);
      expect(recorder.drains).to.equal(0);
      client.resume();
      await recorder.until(() => recorder.drains > 0);
      expect(recorder.bufferedAtDrain).to.equal(0);
      expect((await client.waitForBytes(written)).length).to.equal(written);
    });

    it('pauseReading holds the client back by flow control; resumeReading delivers it all, in order', async function () {
      const client = await connect();
      const recorder = await server.recorder(0);
      recorder.conn.pauseReading();
      recorder.conn.pauseReading(); // idempotent
      const chunk = patternBytes(64 * 1024, 11);
      let written = 0;
      // The server reads nothing more: the kernel buffers fill and bytes back up on the client's side.
      while (client.bufferedAmount() < 1024 * 1024) {
        if (written >= 256 * 1024 * 1024) expect.fail('the server kept reading while paused');
        client.send(chunk);
        written += chunk.length;
        await tick();
      }
      // What arrived is at most what the transport had read before it paused (one read, plus, on
      // WebSocket, the messages its parser had in hand).
      expect(recorder.bytes().length).to.be.below(written - 1024 * 1024);
      recorder.conn.resumeReading();
      await recorder.until(() => recorder.bytes().length >= written);
      expect(recorder.bytes().length).to.equal(written);
      const all = recorder.bytes();
      for (let off = 0; off < written; off += chunk.length) {
        expect(all.subarray(off, off + chunk.length).equals(chunk), `chunk at ${off}`).to.equal(true);
      }
    });

    it('stopAccepting refuses new connections while existing ones keep working', async function () {
      server.echo = true;
      const client = await connect();
      await server.nth(0);
      await t.listener.stopAccepting();
      await t.listener.stopAccepting(); // idempotent
      let refused: unknown = null;
      await connect().catch((err: unknown) => (refused = err));
      expect(refused, 'a connection after stopAccepting').to.be.instanceOf(Error);
      client.send(Buffer.from('still here'));
      expect((await client.waitForBytes(10)).toString()).to.equal('still here');
      expect(server.conns).to.have.length(1);
    });

    it('close() destroys the remaining connections, each with one onClose', async function () {
      const a = await connect();
      const b = await connect();
      const [ra, rb] = [await server.recorder(0), await server.recorder(1)];
      await t.listener.close();
      await t.listener.close(); // idempotent
      await Promise.all([a.closed, b.closed]);
      await ra.until(() => ra.closes.length > 0);
      await rb.until(() => rb.closes.length > 0);
      await tick();
      expect([ra.closes.length, rb.closes.length]).to.deep.equal([1, 1]);
    });
  });
}
