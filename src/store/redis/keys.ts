/**
 * Key names of the Redis message store. Every key of one log carries the same hash tag
 * (`{u:<user>}` or `{t:<topic>}`), so a log's stream, seq counter, cursors and dedup keys sit on one
 * Redis Cluster slot and one Lua script may touch them all (a script may only use keys of one slot).
 */
import { ConfigError } from '../../errors.js';

/** `u` = a recipient user's log, `t` = a topic's log. */
export type LogKind = 'u' | 't';

/** The keys of one log. */
export interface LogKeys {
  /** Stream of entries, id `<seq>-0`. */
  log: string;
  /**
   * Last assigned seq (INCR; created at the clock floor, scripts.ts); never expires, so a seq is not
   * handed out twice while Redis keeps its data, and a counter Redis forgot restarts above it.
   */
  seq: string;
  /** Hash deviceId -> acked seq (user logs only). */
  cursors: string;
  /**
   * Hash of the dedup entries of the current window (field `<len>:<sender><clientMsgId>`), and of the
   * window before it (scripts.ts APPEND_SCRIPT). Layout 1 had a string key per message instead,
   * `<prefix>:{u:<user>}:d:<len>:<sender><clientMsgId>`, which layout 2 neither reads nor writes.
   */
  dedup: string;
  dedupPrev: string;
}

/**
 * Escapes `%`, `{` and `}` so a name can sit inside a hash tag: Redis ends the tag at the first `}`,
 * and a name containing one would otherwise let one log's key spell another log's key.
 */
export function escapeTagPart(name: string): string {
  return name.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Throws ConfigError unless `prefix` is a usable key prefix (non-empty, no braces). */
export function checkKeyPrefix(prefix: string): void {
  if (prefix === '' || /[{}]/.test(prefix)) {
    throw new ConfigError(
      `store key prefix must be non-empty and free of braces, got ${JSON.stringify(prefix)}`,
    );
  }
}

/** Keys of the log `kind`/`name` under `prefix`. */
export function logKeys(prefix: string, kind: LogKind, name: string): LogKeys {
  const base = `${prefix}:{${kind}:${escapeTagPart(name)}}:`;
  return {
    log: `${base}log`,
    seq: `${base}seq`,
    cursors: `${base}cur`,
    dedup: `${base}dd`,
    dedupPrev: `${base}dd0`,
  };
}
