/**
 * The comparison point for Ferry's throughput and memory figures: a bare `ws` (and raw TCP) server
 * that forwards in memory, with the same frames on the wire and none of Ferry's code paths; what it
 * does per frame is described in bench/lib/bare-gateway.ts.
 *
 * Prints one JSON line `{"msg":"baseline ready","addresses":{"ws":{"url"},"tcp":{"url"}},"pid"}` like
 * Ferry's "ferry ready", then runs until SIGTERM/SIGINT or `--max-seconds` (default 3600) passes.
 *
 *   node --import tsx bench/baseline-ws-server.ts [--host 127.0.0.1] [--ws-port 0] [--tcp-port 0]
 *     [--cork]    batch writes per event-loop turn (an experiment, see bench/lib/bare-gateway.ts)
 *     [--wt-port N]  also WebTransport on UDP N (0 = free port), bench/lib/bare-wt-listener.ts; loads
 *                 Ferry's engine from dist/. The ready line then has `"wt":{"url","certHashes":[base64]}`.
 */
import { parseArgs } from 'node:util';
import { BareGateway } from './lib/bare-gateway.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      'ws-port': { type: 'string', default: '0' },
      'tcp-port': { type: 'string', default: '0' },
      'wt-port': { type: 'string' },
      'max-seconds': { type: 'string', default: '3600' },
      cork: { type: 'boolean', default: false },
    },
  });
  const gateway = new BareGateway({ cork: values.cork });
  const urls = await gateway.listen(values.host, Number(values['ws-port']), Number(values['tcp-port']));
  // Loaded only when asked for: it imports Ferry's build, which the plain-node baseline must not need.
  const wt =
    values['wt-port'] === undefined
      ? undefined
      : await (
          await import('./lib/bare-wt-listener.js')
        ).listenWebTransport(gateway, values.host, Number(values['wt-port']));
  process.stdout.write(
    JSON.stringify({
      msg: 'baseline ready',
      pid: process.pid,
      addresses: { ws: { url: urls.ws }, tcp: { url: urls.tcp }, ...(wt !== undefined ? { wt } : {}) },
    }) + '\n',
  );
  const stop = (): void => {
    const { users, stats } = gateway;
    process.stdout.write(JSON.stringify({ msg: 'baseline stopping', users: users.size, ...stats }) + '\n');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Keeps nothing alive: the listeners do.
  setTimeout(stop, Number(values['max-seconds']) * 1000).unref();
}

void main();
