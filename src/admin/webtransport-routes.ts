import type { ServerResponse } from 'node:http';
import type { CertificateSource } from '../webtransport/index.js';
import type { AdminServer } from './admin-server.js';
import { WT_TEST_PAGE } from './wt-test-page.js';

/** What the WebTransport admin routes need to know about the running listener. */
export interface WebTransportAdminInfo {
  certificates: CertificateSource;
  /** The session URL clients should open, e.g. https://127.0.0.1:4433/wt. */
  url: string;
}

/** Body of `GET /webtransport/cert-hashes`. */
export interface CertHashesResponse {
  /** One entry per certificate a client may meet (current, and the next one during a rotation overlap). */
  hashes: { algorithm: 'sha-256'; value: string; hex: string; notAfter: string }[];
  url: string;
  /** True when the node serves a CA-issued certificate: `hashes` is empty and none are needed. */
  ca: boolean;
}

/**
 * Adds the WebTransport routes to the admin port:
 *  - `GET /webtransport/cert-hashes`: the hashes to pass as `serverCertificateHashes` (W3C WebTransport),
 *    and the session URL. Open to any origin (CORS `*`): hashes of a public certificate are not secret,
 *    and a page from another origin (an app on a dev server) needs them to connect at all.
 *  - `GET /wt-test`: a self-contained test page (a secure context on http://127.0.0.1).
 */
export function registerWebTransportRoutes(admin: AdminServer, info: WebTransportAdminInfo): void {
  admin.route('GET', '/webtransport/cert-hashes', (_req, res) => {
    const body: CertHashesResponse = {
      hashes: info.certificates.currentHashes(),
      url: info.url,
      ca: info.certificates.ca,
    };
    send(res, 'application/json; charset=utf-8', JSON.stringify(body), {
      'access-control-allow-origin': '*',
    });
  });
  admin.route('GET', '/wt-test', (_req, res) => {
    send(res, 'text/html; charset=utf-8', WT_TEST_PAGE, {});
  });
}

function send(res: ServerResponse, type: string, text: string, extra: Record<string, string>): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(text);
}
