/**
 * The on-disk snapshot of the in-memory message store, written on drain and read on the next start
 * (docs/architecture.md, "Drain" step 5). Format: UTF-8 JSON lines, one record per line.
 *
 *   line 1   {"magic":"ferry-memory-store","version":1,"nodeId":…,"savedAtMs":…,"counter":…}
 *   ["L", kind, key, lastSeq]                                     a log and its seq counter
 *   ["M", kind, serverId, seq, fromUser, fromDevice, toUser, topic, timestampMs, clientMsgId,
 *         ephemeral (0|1), payload (base64)[, fromService]]        a message, in global append order
 *   ["C", userId, deviceId, seq]                                   a device cursor
 *   ["D", kind, fromUser, clientMsgId, serverId, seq, timestampMs] a dedup entry, oldest first
 *   last     ["E", n]                                               n = number of records above it
 *
 * kind is "u" (user log, key = toUser) or "t" (topic log, key = topic). fromService (the server-side
 * origin of a Push or service reply) is written only when non-empty: a store of client messages saves
 * exactly what earlier versions did, and their files (12-field "M" records) load with fromService ''.
 * The trailer makes a truncated file detectable; any malformed line makes the whole file corrupt (a
 * partial restore could hand out sequence numbers that clients have already seen). Lines keep each
 * JSON.parse small, so a store of hundreds of MiB never needs one giant string.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Envelope } from '../bus/bus.js';
import { StoreError } from '../errors.js';

/** "u" = per-user log, "t" = per-topic log. */
export type LogKind = 'u' | 't';

const MAGIC = 'ferry-memory-store';
const VERSION = 1;
/** Lines are gathered into chunks of about this size before each write(). */
const WRITE_CHUNK_CHARS = 1 << 20;

/**
 * Saving or loading a snapshot failed. `reason` tells the caller what to do: `corrupt` = the file is
 * unusable (log it and start empty; the next drain overwrites it), `io` = the file system refused
 * (permissions, disk full). The code stays `FERRY_ERR_STORE`, so the catalogue is unchanged.
 */
export class SnapshotError extends StoreError {
  readonly path: string;
  readonly reason: 'corrupt' | 'io';
  constructor(path: string, reason: 'corrupt' | 'io', message: string, options?: { cause?: unknown }) {
    super(`snapshot ${path}: ${message}`, options);
    this.path = path;
    this.reason = reason;
  }
}

/** A dedup entry as saved: the first append's result under (kind, fromUser, clientMsgId). */
export interface DedupRecord {
  kind: LogKind;
  /** The dedup sender (message-store.ts dedupSender): the user, plus "\u0000<service>" for server messages. */
  fromUser: string;
  clientMsgId: string;
  serverId: string;
  seq: number;
  timestampMs: number;
}

/** A consistent picture of the store, captured synchronously before any await. */
export interface SnapshotView {
  nodeId: string;
  savedAtMs: number;
  counter: number;
  logs: Array<[LogKind, string, number]>;
  /** Live messages in global append order (that order drives byte-cap eviction after a restore). */
  messages: Array<[LogKind, Envelope]>;
  cursors: Array<[string, string, number]>;
  dedup: DedupRecord[];
}

/** Receives records while a snapshot is read; a thrown Error marks the file corrupt at that line. */
export interface SnapshotSink {
  header(counter: number): void;
  log(kind: LogKind, key: string, lastSeq: number): void;
  message(kind: LogKind, env: Envelope): void;
  cursor(userId: string, deviceId: string, seq: number): void;
  dedup(rec: DedupRecord): void;
  /** After the end record checked out: final consistency checks. */
  end(): void;
}

/** Writes `view` to `path` atomically: a temporary file beside it, fsync, then rename over `path`. */
export async function writeSnapshot(path: string, view: SnapshotView): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fh;
  try {
    await mkdir(dirname(path), { recursive: true });
    fh = await open(tmp, 'w', 0o600);
    const header = { magic: MAGIC, version: VERSION, nodeId: view.nodeId, savedAtMs: view.savedAtMs };
    let chunk = JSON.stringify({ ...header, counter: view.counter }) + '\n';
    let records = 0;
    const put = async (rec: unknown[]): Promise<void> => {
      chunk += JSON.stringify(rec) + '\n';
      records++;
      if (chunk.length >= WRITE_CHUNK_CHARS) {
        await fh!.write(chunk);
        chunk = '';
      }
    };
    for (const [kind, key, lastSeq] of view.logs) await put(['L', kind, key, lastSeq]);
    for (const [kind, e] of view.messages) {
      const payload = Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength);
      // prettier-ignore
      const rec = [
        'M', kind, e.serverId, e.seq, e.fromUser, e.fromDevice, e.toUser, e.topic, e.timestampMs,
        e.clientMsgId, e.ephemeral ? 1 : 0, payload.toString('base64'),
      ];
      if (e.fromService !== '') rec.push(e.fromService);
      await put(rec);
    }
    for (const [userId, deviceId, seq] of view.cursors) await put(['C', userId, deviceId, seq]);
    for (const d of view.dedup) {
      await put(['D', d.kind, d.fromUser, d.clientMsgId, d.serverId, d.seq, d.timestampMs]);
    }
    chunk += JSON.stringify(['E', records]) + '\n';
    await fh.write(chunk);
    // The data must be on disk before the rename makes it visible, or a crash could leave an empty file.
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw new SnapshotError(path, 'io', `cannot write: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Streams the snapshot at `path` into `sink`. Resolves `false` when the file does not exist, `true`
 * once every record was accepted; rejects with a SnapshotError otherwise.
 */
export async function readSnapshot(path: string, sink: SnapshotSink): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new SnapshotError(path, 'io', `cannot open: ${(err as Error).message}`, { cause: err });
  }
  // autoClose off: the handle is closed once below, whether the loop ends normally or throws.
  const input = fh.createReadStream({ autoClose: false });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let records = 0;
  let ended = false;
  try {
    for await (const line of lines) {
      lineNo++;
      if (ended) throw new Error('data after the end record');
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new Error('not JSON');
      }
      if (lineNo === 1) {
        sink.header(parseHeader(rec));
        continue;
      }
      if (!Array.isArray(rec)) throw new Error('record is not an array');
      if (rec[0] === 'E') {
        if (rec[1] !== records) throw new Error(`end record counts ${String(rec[1])}, file has ${records}`);
        ended = true;
        continue;
      }
      applyRecord(rec, sink);
      records++;
    }
    if (lineNo === 0) throw new Error('empty file');
    if (!ended) throw new Error('truncated (no end record)');
    lineNo = 0; // errors from end() concern the whole file, not its last line
    sink.end();
    return true;
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    const where = lineNo > 0 ? ` at line ${lineNo}` : '';
    const io = (err as NodeJS.ErrnoException).code !== undefined;
    throw new SnapshotError(path, io ? 'io' : 'corrupt', `${(err as Error).message}${where}`, { cause: err });
  } finally {
    lines.close();
    input.destroy();
    await fh.close().catch(() => {});
  }
}

function parseHeader(rec: unknown): number {
  if (typeof rec !== 'object' || rec === null) throw new Error('missing header');
  const h = rec as Record<string, unknown>;
  if (h.magic !== MAGIC) throw new Error('not a Ferry store snapshot');
  if (h.version !== VERSION) throw new Error(`unsupported version ${String(h.version)}`);
  return uint(h.counter, 'counter');
}

function applyRecord(r: unknown[], sink: SnapshotSink): void {
  switch (r[0]) {
    case 'L':
      expectLength(r, 4);
      sink.log(kind(r[1]), str(r[2], 'key'), uint(r[3], 'lastSeq'));
      return;
    case 'M': {
      // 13 fields when the message has a fromService (see the file comment), 12 otherwise.
      if (r.length !== 13) expectLength(r, 12);
      const b64 = str(r[11], 'payload');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('payload is not base64');
      const env: Envelope = {
        serverId: str(r[2], 'serverId'),
        seq: uint(r[3], 'seq'),
        fromUser: str(r[4], 'fromUser'),
        fromDevice: str(r[5], 'fromDevice'),
        toUser: str(r[6], 'toUser'),
        topic: str(r[7], 'topic'),
        timestampMs: uint(r[8], 'timestampMs'),
        clientMsgId: str(r[9], 'clientMsgId'),
        ephemeral: r[10] === 1,
        qos: 1,
        // Copy out of Buffer's shared pool so each payload owns exactly its bytes.
        payload: new Uint8Array(Buffer.from(b64, 'base64')),
        fromService: r.length === 13 ? str(r[12], 'fromService') : '',
      };
      sink.message(kind(r[1]), env);
      return;
    }
    case 'C':
      expectLength(r, 4);
      sink.cursor(str(r[1], 'userId'), str(r[2], 'deviceId'), uint(r[3], 'cursor'));
      return;
    case 'D':
      expectLength(r, 7);
      sink.dedup({
        kind: kind(r[1]),
        fromUser: str(r[2], 'fromUser'),
        clientMsgId: str(r[3], 'clientMsgId'),
        serverId: str(r[4], 'serverId'),
        seq: uint(r[5], 'seq'),
        timestampMs: uint(r[6], 'timestampMs'),
      });
      return;
    default:
      throw new Error(`unknown record type ${JSON.stringify(r[0])}`);
  }
}

function expectLength(r: unknown[], n: number): void {
  if (r.length !== n) throw new Error(`"${String(r[0])}" record has ${r.length} fields, expected ${n}`);
}

function kind(v: unknown): LogKind {
  if (v !== 'u' && v !== 't') throw new Error(`bad log kind ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} is not a count`);
  return v;
}
