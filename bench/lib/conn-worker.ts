/**
 * One process of idle clients for the connection-count scenario (forked by bench/connections.ts):
 * opens authenticated connections on request, answers the server's Pings, and otherwise stays quiet.
 * It records how every attempt ended (authenticated, refused with a code, reset, timed out) and how
 * already-authenticated connections were closed, which is what the fd-limit report is made of.
 */
import { BODY, FieldReader, encodePong, readFrame, type FrameView } from './frames.js';
import { tokenFor, type TargetKind } from './tokens.js';
import { AuthError, WireConn, authenticate } from './wire-conn.js';

export interface ConnWorkerInit {
  type: 'init';
  url: string;
  target: TargetKind;
  secret: string;
  localAddresses: string[];
}

export interface ConnWorkerOpen {
  type: 'open';
  /** Global client numbers [start, start + count): user `c<n>`, source address by n. */
  start: number;
  count: number;
  concurrency: number;
}

export interface ConnWorkerOpened {
  type: 'opened';
  ok: number;
  failures: Record<string, number>;
}

export interface ConnWorkerStatus {
  type: 'status';
  open: number;
  /** How authenticated connections ended, by "close <code>" / "disconnect <code>". */
  closes: Record<string, number>;
  pongs: number;
}

class IdleClients {
  private readonly conns = new Set<WireConn>();
  private readonly reader = new FieldReader();
  private readonly view: FrameView = { id: 0, body: 0, start: 0, end: 0 };
  private readonly closes: Record<string, number> = {};
  private pongs = 0;

  constructor(private readonly init: ConnWorkerInit) {}

  async open(req: ConnWorkerOpen): Promise<ConnWorkerOpened> {
    const failures: Record<string, number> = {};
    let ok = 0;
    let next = req.start;
    const end = req.start + req.count;
    const addrs = this.init.localAddresses;
    const one = async (): Promise<void> => {
      while (next < end) {
        const n = next++;
        let conn: WireConn | null = null;
        try {
          const token = await tokenFor(this.init.target, `c${n}`, this.init.secret);
          const localAddress = addrs.length > 0 ? addrs[n % addrs.length] : undefined;
          conn = await WireConn.connect(
            this.init.url,
            localAddress ? { localAddress, timeoutMs: 15_000 } : {},
          );
          await authenticate(conn, token, 15_000);
          this.adopt(conn);
          ok++;
        } catch (err) {
          conn?.terminate();
          const key = err instanceof AuthError ? err.message : `connect: ${(err as Error).message}`;
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, req.concurrency) }, one));
    return { type: 'opened', ok, failures };
  }

  status(): ConnWorkerStatus {
    return { type: 'status', open: this.conns.size, closes: { ...this.closes }, pongs: this.pongs };
  }

  async closeAll(): Promise<void> {
    for (const c of this.conns) c.close();
    const deadline = Date.now() + 10_000;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const c of this.conns) c.terminate();
  }

  private adopt(conn: WireConn): void {
    this.conns.add(conn);
    conn.setFrameHandler((buf, start, end) => {
      const view = readFrame(this.reader, buf, start, end, this.view);
      if (view.body === BODY.ping) {
        let ts = 0;
        const r = this.reader.reset(buf, view.start, view.end);
        while (r.next()) if (r.field === 1 && r.wireType === 0) ts = r.value;
        conn.send(encodePong(view.id, ts, conn.prefixed));
        this.pongs++;
      } else if (view.body === BODY.disconnect) {
        let code = 0;
        const r = this.reader.reset(buf, view.start, view.end);
        while (r.next()) if (r.field === 1 && r.wireType === 0) code = r.value;
        const key = `disconnect ${code}`;
        this.closes[key] = (this.closes[key] ?? 0) + 1;
      }
    });
    conn.onClose = (code) => {
      this.conns.delete(conn);
      const key = `close ${code}`;
      this.closes[key] = (this.closes[key] ?? 0) + 1;
    };
  }
}

/** Entry point when forked: obeys init/open/status/close-all/exit messages. */
export function connWorkerMain(): void {
  let clients: IdleClients | null = null;
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  process.on('disconnect', () => process.exit(0));
  process.on(
    'message',
    (msg: ConnWorkerInit | ConnWorkerOpen | { type: 'status' | 'close-all' | 'exit' }) => {
      switch (msg.type) {
        case 'init':
          clients = new IdleClients(msg);
          send({ type: 'inited' });
          return;
        case 'open':
          void clients?.open(msg).then(send);
          return;
        case 'status':
          if (clients) send(clients.status());
          return;
        case 'close-all':
          void clients?.closeAll().then(() => send({ type: 'closed' }));
          return;
        case 'exit':
          process.exit(0);
      }
    },
  );
}
