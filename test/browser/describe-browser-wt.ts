import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DisconnectCode } from '../../src/errors.js';
import { REPLACED_REASON } from '../../src/session/registry.js';
import { GatewayProcess, testToken } from '../helpers/gateway-process.js';
import { WireClient } from '../helpers/wire-client.js';
import { TIME_FACTOR } from '../helpers/time-factor.js';

/** A frame as the test page decodes it (payloads as text). */
interface PageFrame {
  id: number;
  body: string;
  [body: string]: unknown;
}
type Fields = Record<string, string | number | boolean>;
type ConnectResult = { ok: boolean; authResult?: Fields; disconnect?: Fields; error?: string };
type CloseResult = { closeCode?: number; reason?: string; error?: string };

/** `window.ferryWt` of src/admin/wt-test-page.ts. */
interface FerryWtPage {
  connect(name: string, opts: { token?: string; deviceId?: string; url?: string }): Promise<ConnectResult>;
  send(name: string, frame: Record<string, unknown>): number;
  sendDatagram(name: string, frame: Record<string, unknown>): void;
  next(name: string, body: string, timeoutMs?: number): Promise<PageFrame>;
  nextDatagram(name: string, timeoutMs?: number): Promise<PageFrame>;
  waitClosed(name: string, timeoutMs?: number): Promise<CloseResult>;
}

/** The page's globals, as seen from functions that run in the browser. */
interface PageGlobals {
  ferryWt: FerryWtPage;
}

/**
 * Runs `fn(arg)` in the page and returns its result. Playwright and puppeteer both serialize the
 * function and one argument, so the suite does not depend on either.
 */
export type Evaluate = <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;

/** A page of one browser, at a URL it has loaded. */
export interface BrowserPage {
  evaluate: Evaluate;
}

/** One browser under test: a launched instance that opens pages at a URL. */
export interface BrowserUnderTest {
  /** Opens a new page at `url`; console lines go to `onConsole`. */
  open(url: string, onConsole?: (line: string) => void): Promise<BrowserPage>;
  close(): Promise<void>;
}

/**
 * One WebTransport client living in the page, driven by name. Each call is one evaluation; the
 * functions run in the browser, so they may use nothing but their argument and the page's globals.
 */
class PageClient {
  constructor(
    private readonly page: BrowserPage,
    readonly name: string,
  ) {}

  private get wt(): Evaluate {
    return this.page.evaluate;
  }

  connect(opts: { token?: string; deviceId?: string; url?: string }): Promise<ConnectResult> {
    return this.wt(([n, o]) => (globalThis as unknown as PageGlobals).ferryWt.connect(n, o), [
      this.name,
      opts,
    ] as const);
  }
  send(frame: Record<string, unknown>): Promise<number> {
    return this.wt(([n, f]) => (globalThis as unknown as PageGlobals).ferryWt.send(n, f), [
      this.name,
      frame,
    ] as const);
  }
  sendDatagram(frame: Record<string, unknown>): Promise<void> {
    return this.wt(([n, f]) => (globalThis as unknown as PageGlobals).ferryWt.sendDatagram(n, f), [
      this.name,
      frame,
    ] as const);
  }
  next(body: string, timeoutMs = 5000 * TIME_FACTOR): Promise<PageFrame> {
    return this.wt(([n, b, t]) => (globalThis as unknown as PageGlobals).ferryWt.next(n, b, t), [
      this.name,
      body,
      timeoutMs,
    ] as const);
  }
  nextDatagram(timeoutMs = 5000 * TIME_FACTOR): Promise<PageFrame> {
    return this.wt(([n, t]) => (globalThis as unknown as PageGlobals).ferryWt.nextDatagram(n, t), [
      this.name,
      timeoutMs,
    ] as const);
  }
  waitClosed(timeoutMs = 5000 * TIME_FACTOR): Promise<CloseResult> {
    return this.wt(([n, t]) => (globalThis as unknown as PageGlobals).ferryWt.waitClosed(n, t), [
      this.name,
      timeoutMs,
    ] as const);
  }
}

/**
 * Datagrams may be lost (RFC 9221), even on loopback when a queue is full: send again until one
 * arrives. `attempt` sends one, `received` waits a little for one.
 */
async function untilReceived<T>(attempt: () => Promise<void>, received: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 5; i++) {
    await attempt();
    try {
      return await received();
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/**
 * What every browser must do with Ferry over WebTransport, against a real `ferry start`: connect
 * with `serverCertificateHashes`, exchange QoS-1 frames with WebSocket and TCP clients, datagrams
 * both ways, see a server close's code and reason, and see refusals.
 */
export function describeBrowserWebTransport(name: string, launch: () => Promise<BrowserUnderTest>): void {
  describe(`WebTransport end to end in headless ${name}`, function () {
    this.timeout(60_000 * TIME_FACTOR);
    let gw: GatewayProcess;
    let browser: BrowserUnderTest;
    let page: BrowserPage;
    const consoleLines: string[] = [];

    before(async function () {
      gw = await GatewayProcess.start([], { wt: true });
      browser = await launch();
      page = await browser.open(`${gw.urls.admin}/wt-test`, (line) => consoleLines.push(line));
    });

    after(async function () {
      await browser?.close();
      await gw?.cleanup();
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') {
        console.log(`page console:\n  ${consoleLines.join('\n  ')}\ngateway stderr:\n${gw.stderr}`);
      }
    });

    it('publishes the development certificate hash and the session URL on the admin port', async function () {
      const res = await fetch(`${gw.urls.admin}/webtransport/cert-hashes`);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      const info = (await res.json()) as {
        hashes: { algorithm: string; value: string }[];
        url: string;
        ca: boolean;
      };
      expect(info.url)
        .to.equal(gw.urls.wt)
        .and.match(/^https:\/\/127\.0\.0\.1:\d+\/wt$/);
      expect(info.ca).to.equal(false);
      const pem = readFileSync(join(gw.dataDir, 'certs', 'current-cert.pem'), 'utf8');
      const digest = createHash('sha256').update(new X509Certificate(pem).raw).digest('base64');
      expect(info.hashes.map((h) => [h.algorithm, h.value])).to.deep.include(['sha-256', digest]);
    });

    it('connects with serverCertificateHashes and exchanges QoS-1 messages with WebSocket and TCP clients', async function () {
      const alice = new PageClient(page, 'alice');
      const auth = await alice.connect({ token: await testToken('wt-alice'), deviceId: 'browser' });
      expect(auth.ok, JSON.stringify(auth)).to.equal(true);
      expect(auth.authResult).to.deep.include({ userId: 'wt-alice', deviceId: 'browser' });
      const ws = await WireClient.login(gw.urls.ws, await testToken('ws-bob'));
      const tcp = await WireClient.login(gw.urls.tcp, await testToken('tcp-carol'));

      // Browser -> WebSocket and TCP.
      for (const [peer, client, id] of [
        ['ws-bob', ws, 'b1'],
        ['tcp-carol', tcp, 'c1'],
      ] as const) {
        await alice.send({ send: { toUser: peer, payload: `hello ${peer}`, qos: 1, clientMsgId: id } });
        const ack = await alice.next('sendAck');
        expect(ack.sendAck).to.include({ clientMsgId: id });
        const d = await client.nextBody('deliver');
        expect(Buffer.from(d.deliver!.payload!).toString()).to.equal(`hello ${peer}`);
        expect(d.deliver).to.include({ fromUser: 'wt-alice', fromDevice: 'browser', qos: 1 });
        client.send({ ack: { seq: d.deliver!.seq } });
      }

      // WebSocket and TCP -> browser, acked by the page.
      for (const [client, id] of [
        [ws, 'w1'],
        [tcp, 't1'],
      ] as const) {
        client.send({
          send: { toUser: 'wt-alice', payload: Buffer.from(`from ${id}`), qos: 1, clientMsgId: id },
        });
        expect((await client.nextBody('sendAck')).sendAck?.seq).to.be.above(0);
        const d = await alice.next('deliver');
        const deliver = d.deliver as Fields;
        expect(deliver).to.include({ payload: `from ${id}`, qos: 1 });
        await alice.send({ ack: { seq: deliver.seq } });
      }
      ws.close();
      tcp.close();
    });

    it('sends and receives ephemeral frames as datagrams', async function () {
      const alice = new PageClient(page, 'alice');
      const ws = await WireClient.login(gw.urls.ws, await testToken('ws-dave'));

      // Browser datagram -> server -> WebSocket (as an ordinary message: WebSocket has no datagrams).
      const typing = await untilReceived(
        () => alice.sendDatagram({ send: { toUser: 'ws-dave', payload: 'typing...', ephemeral: true } }),
        () => ws.nextBody('deliver', 1000 * TIME_FACTOR),
      );
      expect(typing.deliver).to.include({ fromUser: 'wt-alice', ephemeral: true });
      expect(Buffer.from(typing.deliver!.payload!).toString()).to.equal('typing...');

      // WebSocket -> server -> browser datagram.
      const dg = await untilReceived(
        async () =>
          void ws.send({ send: { toUser: 'wt-alice', payload: Buffer.from('wave'), ephemeral: true } }),
        () => alice.nextDatagram(1000 * TIME_FACTOR),
      );
      expect(dg.body).to.equal('deliver');
      expect(dg.deliver).to.include({ payload: 'wave', fromUser: 'ws-dave', ephemeral: true });
      ws.close();
    });

    it('sees the server-initiated disconnect 4505 when the same device logs in again', async function () {
      // Both signals, once: the Disconnect frame ahead of the close on the frame stream (the only
      // carrier of reconnect advice, docs/protocol.md §6.2), and the session's own close code and
      // reason in `WebTransport.closed` (the server's close sequence, docs/protocol.md §2.3).
      const token = await testToken('wt-erin');
      const victim = new PageClient(page, 'erin');
      const replacer = new PageClient(page, 'erin-again');
      const first = await victim.connect({ token, deviceId: 'browser' });
      expect(first.ok, JSON.stringify(first)).to.equal(true);
      const auth = await replacer.connect({ token, deviceId: 'browser' });
      expect(auth.ok, JSON.stringify(auth)).to.equal(true);
      const frame = await victim.next('disconnect');
      expect(frame.disconnect).to.deep.include({ code: DisconnectCode.REPLACED, reason: REPLACED_REASON });
      expect(await victim.waitClosed()).to.deep.equal({
        closeCode: DisconnectCode.REPLACED,
        reason: REPLACED_REASON,
      });
    });

    it('refuses a session on another path, and the page sees the failure', async function () {
      const stray = new PageClient(page, 'stray');
      const result = await stray.connect({ url: gw.urls.wt.replace(/\/wt$/, '/elsewhere') });
      expect(result.ok).to.equal(false);
      expect(result.error).to.be.a('string').and.not.equal('');
    });

    it('refuses a session from an origin outside the allow-list', async function () {
      const strict = await GatewayProcess.start(['--ws-origins', 'https://app.example.com'], { wt: true });
      try {
        const other = await browser.open(`${strict.urls.admin}/wt-test`);
        const result = await new PageClient(other, 'foreign').connect({});
        expect(result.ok).to.equal(false);
        // The refusal was the origin check's (403), not some other failure.
        const metrics = (await strict.admin('/metrics')).body;
        expect(metrics).to.match(/ferry_connections_refused_total\{transport="wt",reason="origin"\} 1/);
      } finally {
        await strict.cleanup();
      }
    });
  });
}
