import { expect } from 'chai';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';
import { TIME_FACTOR } from '../../helpers/time-factor.js';

type Address = { host: string; url: string; bindUrl: string };

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The banner line of one listener: label, padding, then `text`. */
function bannerLine(label: string, text: string): RegExp {
  return new RegExp(`\\n  ${label} +${escape(text)}\\n`);
}

/**
 * The client listeners bind every interface by default; the banner must say so rather than print
 * loopback URLs only, and the "ferry started" log line keeps a connectable `url` for tools (the
 * test helpers connect with it) with the bind address beside it as `bindUrl`.
 */
describe('where the node says it listens (host 0.0.0.0)', function () {
  this.timeout(30_000 * TIME_FACTOR);
  let gw: GatewayProcess;

  before(async function () {
    gw = await GatewayProcess.start(['--host', '0.0.0.0']);
  });
  after(async function () {
    await gw?.cleanup();
  });

  it('prints the bind address and a URL that works from this machine, and logs both', async function () {
    await gw.waitForStderr('Stop:');
    const started = gw.logs.find((l) => l.msg === 'ferry started');
    const { ws, tcp } = started?.addresses as Record<string, Address>;
    expect(ws).to.deep.include({ host: '0.0.0.0', url: gw.urls.ws });
    expect(ws?.url).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(ws?.bindUrl).to.equal(gw.urls.ws.replace('127.0.0.1', '0.0.0.0'));
    expect(tcp?.bindUrl).to.equal(gw.urls.tcp.replace('127.0.0.1', '0.0.0.0'));
    const where = (a: Address | undefined): string =>
      `${a?.bindUrl} (all interfaces; from this machine ${a?.url})`;
    expect(gw.stderr).to.match(bannerLine('WebSocket', where(ws)));
    expect(gw.stderr).to.match(bannerLine('TCP', where(tcp)));
    // The admin port binds loopback only: one URL.
    expect(gw.stderr).to.match(bannerLine('Admin HTTP', gw.urls.admin));
    const c = await WireClient.login(gw.urls.ws, await testToken('banner'));
    c.close();
  });
});
