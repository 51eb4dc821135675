/**
 * The floor for `npm run bench -- cluster` (the issue's own reference point): the bare `ws` gateway of
 * bench/lib/bare-gateway.ts plus the least a two-node Redis Streams forward needs. No presence (a user
 * not connected here is assumed to be on the other node), no dedup, no store, no QoS, no liveness.
 *
 *  - Out: a Send to a user not connected here is appended to one binary record per message
 *    (u8 recipient length, recipient, u8 sender length, sender, u32 LE payload length, payload); all
 *    records of one event-loop turn go to the peer's inbox as ONE entry of ONE XADD (field `m`), with
 *    one XADD in flight at a time, what comes meanwhile going in the next one, as Ferry does. One XADD
 *    per message, even pipelined in one write, costs Redis a command, an entry and a reply per message
 *    and this node a promise per message: the batch is the cheaper of the two.
 *  - In: XREADGROUP GROUP g <node> COUNT 512 BLOCK 1000 on the node's own inbox over a dedicated
 *    connection, a Deliver to each local recipient, one XACK per batch read (not awaited). Once a
 *    second the inbox is trimmed up to the last entry read (XTRIM MINID ~), like Ferry's janitor, so
 *    Redis memory stays comparable.
 *  - The sender gets its SendAck at once (QoS 0), whether or not the forward reaches Redis.
 *
 *   node bench/.build/lib/minimal-forward-node.js --redis redis://127.0.0.1:6379 --node node1 \
 *     --inbox min:inbox:node1 --peer-inbox min:inbox:node2 [--host 127.0.0.1] [--port 0]
 *
 * Node-redis with `commandOptions: { timeout: 0 }` (no per-command AbortSignal timer, as
 * src/cluster/redis-link.ts). Prints `{"msg":"minimal ready","addresses":{"ws":{"url":...}}}` when
 * listening; problems go to stderr (the bench tallies them as the node's warnings); exits on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createClient, RESP_TYPES } from 'redis';
import { BareGateway, type RemoteSend } from './bare-gateway.js';

const GROUP = 'g';
const FIELD = 'm';
/** Bulk strings as Buffers: the batches are binary. */
const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;
const FIRST_BATCH_BYTES = 16 * 1024;

type Client = ReturnType<typeof createClient>;

const errorTimes = new Map<string, number>();

/** One stderr line per kind of failure and second at most (a down Redis would fail every command). */
function warn(what: string, err: unknown): void {
  const now = Date.now();
  if (now - (errorTimes.get(what) ?? 0) < 1000) return;
  errorTimes.set(what, now);
  process.stderr.write(`minimal: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
}

/** This node's outgoing records, sent to the peer's inbox one XADD at a time. */
class Outbox {
  /** Records sent to Redis (acknowledged by XADD) and lost with a failed XADD. */
  out = 0;
  failed = 0;
  private buf: Buffer | null = null;
  private length = 0;
  private records = 0;
  private scheduled = false;
  private inflight = false;

  constructor(
    private readonly client: Client,
    private readonly stream: string,
  ) {}

  /** Appends one message to this turn's batch; false when an id is too long for the record. */
  readonly push: RemoteSend = (from, src, toStart, toEnd, payloadStart, payloadEnd) => {
    const toLength = toEnd - toStart;
    if (toLength > 255 || from.length > 255) return false;
    const buf = this.reserve(6 + toLength + from.length + payloadEnd - payloadStart);
    let off = this.length;
    buf[off++] = toLength;
    off += src.copy(buf, off, toStart, toEnd);
    buf[off++] = from.length;
    off += from.copy(buf, off);
    off = buf.writeUInt32LE(payloadEnd - payloadStart, off);
    off += src.copy(buf, off, payloadStart, payloadEnd);
    this.length = off;
    this.records++;
    this.schedule();
    return true;
  };

  private reserve(bytes: number): Buffer {
    const need = this.length + bytes;
    const buf = this.buf;
    if (buf !== null && buf.length >= need) return buf;
    // A fresh buffer per batch: node-redis keeps a reference to the argument until it is written.
    const grown = Buffer.allocUnsafe(Math.max(FIRST_BATCH_BYTES, need, (buf?.length ?? 0) * 2));
    if (buf !== null) buf.copy(grown, 0, 0, this.length);
    return (this.buf = grown);
  }

  private schedule(): void {
    if (this.scheduled || this.inflight) return;
    this.scheduled = true;
    // After every I/O callback of this turn: everything the turn forwarded goes in one XADD.
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.inflight || this.buf === null) return;
    const body = this.buf.subarray(0, this.length);
    const records = this.records;
    this.buf = null;
    this.length = 0;
    this.records = 0;
    this.inflight = true;
    const done = (): void => {
      this.inflight = false;
      if (this.buf !== null) this.schedule();
    };
    this.client.sendCommand(['XADD', this.stream, '*', FIELD, body]).then(
      () => {
        this.out += records;
        done();
      },
      (err: unknown) => {
        this.failed += records;
        warn('XADD', err);
        done();
      },
    );
  };
}

/** The entries `[id, [field, value, ...]]` of a one-stream XREADGROUP reply (RESP2 or RESP3 shape). */
function entriesOf(reply: unknown): [Buffer, Buffer[]][] {
  if (reply === null || typeof reply !== 'object') return [];
  let list: unknown;
  if (Array.isArray(reply)) list = (reply[0] as unknown[] | undefined)?.[1];
  else if (reply instanceof Map) list = reply.values().next().value;
  else list = Object.values(reply)[0];
  return Array.isArray(list) ? (list as [Buffer, Buffer[]][]) : [];
}

/** Delivers every record of one batch to its recipient here; returns how many had none. */
function deliverBatch(gateway: BareGateway, batch: Buffer, now: number): number {
  let missing = 0;
  let off = 0;
  while (off < batch.length) {
    const toLength = batch[off++]!;
    const to = batch.toString('utf8', off, off + toLength);
    off += toLength;
    const fromLength = batch[off++]!;
    const from = batch.subarray(off, off + fromLength);
    off += fromLength;
    const payloadLength = batch.readUInt32LE(off);
    off += 4;
    if (!gateway.deliverLocal(to, from, batch, off, off + payloadLength, now)) missing++;
    off += payloadLength;
  }
  return missing;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      node: { type: 'string' },
      inbox: { type: 'string' },
      'peer-inbox': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
    },
  });
  const { redis: url, node, inbox, 'peer-inbox': peerInbox } = values;
  if (url === undefined || node === undefined || inbox === undefined || peerInbox === undefined)
    throw new Error('--redis, --node, --inbox and --peer-inbox are required');

  const client: Client = createClient({ url, commandOptions: { timeout: 0 } });
  client.on('error', (err: Error) => warn('redis', err));
  await client.connect();
  // A blocked XREADGROUP would hold up every XADD queued behind it on a shared connection.
  const reading = client.duplicate();
  reading.on('error', (err: Error) => warn('redis (reader)', err));
  await reading.connect();
  await client.sendCommand(['XGROUP', 'CREATE', inbox, GROUP, '0', 'MKSTREAM']).catch((err: unknown) => {
    if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
  });

  const outbox = new Outbox(client, peerInbox);
  const gateway = new BareGateway({ remote: outbox.push });
  const stats = { entries: 0, noRecipient: 0 };
  let running = true;
  let lastRead: Buffer | null = null;

  const readLoop = async (): Promise<void> => {
    while (running) {
      let reply: unknown;
      try {
        reply = await reading.sendCommand(
          ['XREADGROUP', 'GROUP', GROUP, node, 'COUNT', '512', 'BLOCK', '1000', 'STREAMS', inbox, '>'],
          BUFFERS,
        );
      } catch (err) {
        if (!running) return;
        warn('XREADGROUP', err);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const entries = entriesOf(reply);
      if (entries.length === 0) continue;
      const now = Date.now();
      const ack: (string | Buffer)[] = ['XACK', inbox, GROUP];
      for (const [id, fields] of entries) {
        ack.push(id);
        stats.entries++;
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i]!.toString() !== FIELD) continue;
          const batch = fields[i + 1]!;
          stats.noRecipient += deliverBatch(gateway, batch, now);
        }
      }
      lastRead = entries[entries.length - 1]![0];
      client.sendCommand(ack).catch((err: unknown) => warn('XACK', err));
    }
  };
  void readLoop();
  setInterval(() => {
    if (lastRead === null) return;
    client.sendCommand(['XTRIM', inbox, 'MINID', '~', lastRead]).catch((err: unknown) => warn('XTRIM', err));
  }, 1000).unref();

  const urls = await gateway.listen(values.host, Number(values.port));
  process.stdout.write(
    `${JSON.stringify({ msg: 'minimal ready', pid: process.pid, addresses: { ws: { url: urls.ws } } })}\n`,
  );
  const stop = (): void => {
    running = false;
    const { users, stats: local } = gateway;
    process.stdout.write(
      `${JSON.stringify({
        msg: 'minimal stopping',
        users: users.size,
        ...local,
        out: outbox.out,
        outFailed: outbox.failed,
        inEntries: stats.entries,
        inNoRecipient: stats.noRecipient,
      })}\n`,
    );
    // A blocked XREADGROUP would hold a graceful quit for up to its block time: nothing here needs one.
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `minimal-forward-node: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
