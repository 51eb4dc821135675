import { expect } from 'chai';
import { Bystanders } from '../../helpers/bystanders.js';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';

/**
 * An address whose connections keep getting cut for abuse is refused at accept for a while, so a
 * flooder that reconnects after every cut stops costing the node a handshake and a session each time.
 * The hostile client comes from 127.0.0.3 and 127.0.0.4 (Linux routes all of 127/8 to lo).
 */
describe('abuse: addresses that keep getting cut are refused at accept', function () {
  this.timeout(30_000);
  let gw: GatewayProcess;
  let bystanders: Bystanders;

  before(async () => {
    gw = await GatewayProcess.start(['--abuse-threshold', '3', '--abuse-max-ban', '30s']);
    bystanders = await Bystanders.start(gw.urls, 'penalty-bystander');
  });
  after(async () => {
    bystanders.destroy();
    await gw.cleanup();
  });

  /** One connection from `localAddress` that sends garbage and is cut with 4500. */
  async function garbage(url: string, localAddress: string): Promise<number> {
    const c = await WireClient.connect(url, { localAddress });
    c.sendBytes(url.startsWith('tcp') ? Buffer.from([0, 0, 0, 2, 0xff, 0xff]) : Buffer.from([0xff, 0xff]));
    const d = await c.nextBody('disconnect');
    await c.waitClosed();
    return d.disconnect?.code ?? 0;
  }

  it('refuses the address after the threshold with 4007 on TCP and HTTP 429 on WebSocket; others get in', async () => {
    for (let i = 0; i < 4; i++) expect(await garbage(gw.urls.tcp, '127.0.0.3')).to.equal(4500);
    // Banned now: the next TCP connection gets a Disconnect 4007 at once, without Authenticate.
    const refused = await WireClient.connect(gw.urls.tcp, { localAddress: '127.0.0.3' });
    const d = await refused.nextBody('disconnect');
    expect(d.disconnect?.code).to.equal(4007);
    expect(d.disconnect?.reason).to.match(/cut for abuse/);
    await refused.waitClosed();
    const ws = await WireClient.connect(gw.urls.ws, { localAddress: '127.0.0.3' }).then(
      () => 'open',
      (err: Error) => err.message,
    );
    expect(ws).to.equal('HTTP 429');
    // Another address logs in, and the bystanders went on.
    const other = await WireClient.login(gw.urls.tcp, await testToken('penalty-other'), {
      localAddress: '127.0.0.4',
    });
    other.destroy();
    await bystanders.exchange();
    const metrics = await gw.admin('/metrics');
    expect(metrics.body).to.match(/ferry_connections_refused_total\{transport="tcp",reason="abuse"\} 1\b/);
    expect(metrics.body).to.match(/ferry_connections_refused_total\{transport="ws",reason="abuse"\} 1\b/);
    expect(
      gw.logs.some(
        (l) => l.msg === 'address refused for a while: too many of its connections were cut for abuse',
      ),
    ).to.equal(true);
  });
});
