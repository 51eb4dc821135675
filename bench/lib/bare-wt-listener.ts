/**
 * WebTransport for the bare gateway (bench/lib/bare-gateway.ts): the floor under Ferry's WebTransport
 * figures in bench/webtransport.ts. Ferry's own engine (src/webtransport, the WebTransportServer that
 * src/transport/webtransport/ drives) accepts the sessions; nothing of Ferry's gateway sits on top.
 *
 *  - Sessions are accepted on `/wt` only (404 otherwise; the query is ignored), any Origin, with a
 *    self-signed development certificate made at start (generateDevCertificate, as Ferry's
 *    CertificateManager makes them), so clients pin it by hash (`serverCertificateHashes`).
 *  - As in Ferry (docs/protocol.md §2.3), the session's first client-opened bidi stream carries u32-BE
 *    length-prefixed frames both ways and becomes one bare Peer; later bidi streams are reset, uni
 *    streams stopped, datagrams ignored.
 *  - The client's FIN or reset of the frame stream ends the session; a protocol violation closes it
 *    with 4503, a replaced user's session with 4505 (the WebSocket close codes of the bare gateway).
 *
 * The engine is loaded from the measured build, `<ferry>/dist/webtransport/` (BENCH_FERRY_DIR or this
 * checkout, as for the Ferry node), so both targets run the same compiled QUIC/HTTP/3 code.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as CertsModule from '../../src/webtransport/certs.js';
import type * as WtModule from '../../src/webtransport/index.js';
import type {
  SessionDecision,
  SessionRequest,
  WebTransportSession,
  WtBidiStream,
} from '../../src/webtransport/index.js';
import { MAX_FRAME_BYTES, type BareGateway, type Peer } from './bare-gateway.js';
import { PrefixedReader } from './frames.js';
import { ferryDir } from './servers.js';

/** Where a bare WebTransport listener can be reached. */
export interface BareWtAddress {
  url: string;
  /** base64 SHA-256 of the certificate's DER, as `serverCertificateHashes` takes it. */
  certHashes: string[];
}

/** Ferry's default `session.idleTimeoutMs`, which Ferry also hands the engine as the QUIC idle timeout. */
const IDLE_TIMEOUT_MS = 60_000;
const PATH = '/wt';

function loadDist<T>(...path: string[]): Promise<T> {
  return import(pathToFileURL(join(ferryDir(), 'dist', 'webtransport', ...path)).href) as Promise<T>;
}

function decide(req: SessionRequest): SessionDecision {
  const q = req.path.indexOf('?');
  return (q === -1 ? req.path : req.path.slice(0, q)) === PATH
    ? { status: 200 }
    : { status: 404, reason: 'path' };
}

/** One session: a Peer once the client opens its frame stream. */
function sessionOnOpen(gateway: BareGateway, session: WebTransportSession): void {
  let stream: WtBidiStream | null = null;
  const frames = new PrefixedReader(MAX_FRAME_BYTES);
  const peer: Peer = {
    userId: null,
    prefixed: true,
    // Frames are only written in answer to, or after, the client's first frame: the stream exists.
    write: (frame) => stream?.write(frame),
    buffered: () => stream?.bufferedAmount() ?? 0,
    close: () => session.close(4505, 'replaced'),
  };
  const onFrame = (buf: Buffer, start: number, end: number): void => {
    if (!gateway.peerOnFrame(peer, buf, start, end)) throw new Error('protocol violation');
  };
  session.setHandler({
    onBidiStream: (s) => {
      if (stream !== null) {
        s.reset(4503);
        s.stop(4503);
        return;
      }
      stream = s;
      s.setHandler({
        onData: (bytes) => {
          try {
            frames.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), onFrame);
          } catch {
            session.close(4503, 'protocol violation');
          }
        },
        onEnd: () => {
          s.end();
          session.close(0, '');
        },
        onReset: () => session.close(0, ''),
        onDrain: () => {},
      });
    },
    onUniStream: (s) => s.stop(4503),
    onDatagram: () => {},
    onClose: () => gateway.peerOnClose(peer),
  });
}

/** Starts a WebTransport listener for `gateway` on UDP `host:port` (0 = a free port). */
export async function listenWebTransport(
  gateway: BareGateway,
  host: string,
  port: number,
): Promise<BareWtAddress> {
  const [wt, certs] = await Promise.all([
    loadDist<typeof WtModule>('index.js'),
    loadDist<typeof CertsModule>('certs.js'),
  ]);
  const cert = await certs.generateDevCertificate({ now: Date.now(), hostNames: [host] });
  const server = new wt.WebTransportServer({
    host,
    port,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    limits: { idleTimeoutMs: IDLE_TIMEOUT_MS },
    onSessionRequest: decide,
    onSession: (session) => sessionOnOpen(gateway, session),
  });
  const a = await server.listen();
  const urlHost = a.host.includes(':') ? `[${a.host}]` : a.host;
  return { url: `https://${urlHost}:${a.port}${PATH}`, certHashes: [cert.hash.value] };
}
