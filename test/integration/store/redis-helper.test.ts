/**
 * The redis-server test helper itself: it must hand out working, isolated servers and really stop
 * them, or every Redis-backed test above it would test the wrong thing.
 */
import { expect } from 'chai';
import { startRedisCluster, startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test helper: redis-server', function () {
  this.timeout(30_000);

  it('starts a server that answers, without persistence by default, and stops it', async () => {
    const s = await startRedisServer();
    try {
      expect(s.url).to.equal(`redis://127.0.0.1:${s.port}`);
      expect(alive(s.pid)).to.equal(true);
      expect((await s.cli('set', 'k', 'v')).trim()).to.equal('OK');
      expect(await s.cli('config', 'get', 'appendonly')).to.match(/appendonly\s+no/);
      await s.restart();
      expect((await s.cli('get', 'k')).trim()).to.equal('');
    } finally {
      const pid = s.pid;
      await s.stop();
      expect(alive(pid)).to.equal(false);
    }
  });

  it('keeps data across kill9 + restart on the same port when appendonly is on', async () => {
    const s: RedisServer = await startRedisServer({ appendonly: true });
    try {
      const port = s.port;
      const before = s.pid;
      await s.cli('set', 'k', 'v');
      await s.kill9();
      expect(alive(before)).to.equal(false);
      await s.restart();
      expect(s.port).to.equal(port);
      expect(s.pid).to.not.equal(before);
      expect((await s.cli('get', 'k')).trim()).to.equal('v');
    } finally {
      await s.stop();
    }
  });

  it('starts a 3-master cluster with all slots covered', async () => {
    const c = await startRedisCluster(3);
    try {
      expect(c.nodes).to.have.length(3);
      expect(new Set(c.nodes.map((n) => n.port)).size).to.equal(3);
      for (const s of c.servers) {
        const info = await s.cli('cluster', 'info');
        expect(info).to.include('cluster_state:ok');
        expect(info).to.include('cluster_slots_assigned:16384');
      }
    } finally {
      await c.stop();
    }
    for (const s of c.servers) expect(s.pid).to.equal(0);
  });
});
