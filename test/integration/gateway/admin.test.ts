import { expect } from 'chai';
import { GatewayProcess, testToken } from '../../helpers/gateway-process.js';
import { WireClient } from '../../helpers/wire-client.js';

describe('gateway: admin HTTP', function () {
  let gw: GatewayProcess;
  before(async () => {
    gw = await GatewayProcess.start();
  });
  after(async () => {
    await gw.cleanup();
  });

  it('serves /health, /ready, /metrics and /stats (/stats with the admin key)', async () => {
    const c = await WireClient.login(gw.urls.ws, await testToken('adm'));
    expect((await gw.admin('/health')).status).to.equal(200);
    expect((await gw.admin('/ready')).status).to.equal(200);
    const m = await gw.admin('/metrics');
    expect(m.status).to.equal(200);
    expect(m.body).to.match(/ferry_connections\{transport="ws"\} 1/);
    expect(m.body).to.include('ferry_delivery_latency_seconds');
    expect(m.body).to.include('ferry_frames_in_total');
    const s = JSON.parse((await gw.admin('/stats')).body) as Record<string, unknown>;
    expect(s).to.have.property('nodeId');
    expect(JSON.stringify(s)).to.include('"ws"');
    expect((await gw.admin('/nope')).status).to.equal(404);
    const anonymous = await fetch(`${gw.urls.admin}/stats`);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Bearer/);
    c.destroy();
  });
});
