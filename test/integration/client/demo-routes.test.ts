import { expect } from 'chai';
import { connect } from '../../../client/src/node.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';

describe('admin demo routes', function () {
  this.timeout(30_000);
  const nodes: GatewayProcess[] = [];
  after(async function () {
    for (const n of nodes) await n.cleanup();
  });

  it('refuses demo tokens when a production auth key is configured (admin.demo auto)', async function () {
    const gw = await GatewayProcess.start();
    nodes.push(gw);
    const res = await fetch(`${gw.urls.admin}/demo/token`, {
      method: 'POST',
      headers: gw.adminHeaders(),
      body: '{"user":"alice"}',
    });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/auth keys are configured/);
    const config = JSON.parse((await gw.admin('/demo/config')).body) as { tokens: boolean; ws: string };
    expect(config).to.include({ tokens: false, ws: gw.urls.ws });
    expect((await gw.admin('/demo')).body).to.include('/client/ferry-client.js');
    const bundle = await fetch(`${gw.urls.admin}/client/ferry-client.js`);
    expect(bundle.status).to.equal(200);
    expect(bundle.headers.get('content-type')).to.match(/javascript/);
    expect(await bundle.text()).to.match(/export\s*\{/);
  });

  it('mints tokens the node accepts with admin.demo on, and validates the request', async function () {
    const gw = await GatewayProcess.start(['--admin-demo', 'on']);
    nodes.push(gw);
    const bad = await fetch(`${gw.urls.admin}/demo/token`, {
      method: 'POST',
      headers: gw.adminHeaders(),
      body: 'not json',
    });
    expect(bad.status).to.equal(400);
    const res = await fetch(`${gw.urls.admin}/demo/token`, {
      method: 'POST',
      headers: gw.adminHeaders(),
      body: '{"user":"demo-u","device":"tab-1"}',
    });
    expect(res.status).to.equal(200);
    const { token } = (await res.json()) as { token: string };
    const client = await connect({ url: gw.urls.ws, token });
    expect(client.connection).to.include({ userId: 'demo-u', deviceId: 'tab-1' });
    await client.close();
  });

  it('refuses demo tokens with admin.demo off', async function () {
    const gw = await GatewayProcess.start(['--admin-demo', 'off']);
    nodes.push(gw);
    const off = await fetch(`${gw.urls.admin}/demo/token`, {
      method: 'POST',
      headers: gw.adminHeaders(),
      body: '{"user":"x"}',
    });
    expect(off.status).to.equal(403);
  });
});
