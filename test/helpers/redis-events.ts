/**
 * Redis-side events for tests to await instead of polling: a link becoming ready again, and keyspace
 * notifications (a key expiring, a stream group created, a hash written).
 */
import { createClient } from 'redis';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { Changes, Recorder } from './recorder.js';

/** Resolves once `link` can send commands, re-checked on each of its connection events. */
export async function linkReady(link: RedisLink, what = 'the Redis link to be ready', timeoutMs = 10_000) {
  const changes = new Changes();
  const stop = link.onChange(() => changes.notify());
  try {
    await changes.until(() => link.isReady, what, timeoutMs);
  } finally {
    stop();
  }
}

/** One keyspace notification: the command's event name (`expired`, `hset`, `xgroup-create`) and key. */
export interface KeyEvent {
  event: string;
  key: string;
}

/**
 * Keyspace notifications of one redis-server (database 0), recorded from the moment `open` resolves.
 * Turns notifications on for every key event class (`KEA`): test servers only.
 */
export class KeyEvents {
  readonly events = new Recorder<KeyEvent>();

  private constructor(private readonly close_: () => Promise<void>) {}

  static async open(url: string): Promise<KeyEvents> {
    const client = createClient({ url });
    client.on('error', () => undefined); // a test may stop the server; close() ends the client
    await client.connect();
    await client.configSet('notify-keyspace-events', 'KEA');
    const k = new KeyEvents(() => client.close().catch(() => client.destroy()));
    await client.pSubscribe('__keyevent@0__:*', (key, channel) => {
      k.events.push({ event: channel.slice('__keyevent@0__:'.length), key });
    });
    return k;
  }

  /** Resolves at the first `event` on a key `match` accepts (recorded already or still to come). */
  waitFor(event: string, match: (key: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return this.events.waitFor((evs) => evs.some((e) => e.event === event && match(e.key)), what, timeoutMs);
  }

  close(): Promise<void> {
    return this.close_();
  }
}
