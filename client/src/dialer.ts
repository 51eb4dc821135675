/**
 * Opens one transport: the current node's transports in order of preference (a remembered fallback
 * first), then the other nodes' in turn. The node that answers becomes current. A fallback is
 * remembered only when the preferred transport failed and another worked on the same node: a node
 * that is down says nothing about UDP being blocked.
 */
import { FerryClientError } from './errors.js';
import type { NodeList } from './node-list.js';
import type { TransportMemory } from './transport-memory.js';
import type {
  ClientTransport,
  TransportEvents,
  TransportFactory,
  TransportKind,
} from './transports/transport.js';

/** The transports an entry point (browser, Node) can open. */
export type TransportFactories = Partial<Record<TransportKind, TransportFactory>>;

/** One transport attempt: which, where, and whether it opened (the client's `transport` event). */
export interface TransportAttempt {
  kind: TransportKind;
  url: string;
  ok: boolean;
  error?: string;
}

export interface DialerHost {
  /** True once the client closes: stop trying. */
  isClosing(): boolean;
  /** WebTransport certificate hashes for the next attempt ([] for CA-issued certificates). */
  certHashes(): Promise<readonly string[]>;
  onAttempt(a: TransportAttempt): void;
}

export class Dialer {
  constructor(
    private readonly nodes: NodeList,
    private readonly transports: readonly TransportKind[],
    private readonly factories: TransportFactories,
    private readonly memory: TransportMemory,
    private readonly timeoutMs: number,
    private readonly host: DialerHost,
  ) {}

  /** Opens the first transport that works; throws FERRY_CLIENT_NO_TRANSPORT (or _CLOSED) if none. */
  async open(events: TransportEvents): Promise<ClientTransport> {
    const failures: Error[] = [];
    for (const i of this.nodes.order()) {
      if (this.host.isClosing()) break;
      const transport = await this.openOnNode(i, events, failures);
      if (transport !== null) {
        this.nodes.use(i);
        return transport;
      }
    }
    const closing = this.host.isClosing();
    throw new FerryClientError(
      closing ? 'FERRY_CLIENT_CLOSED' : 'FERRY_CLIENT_NO_TRANSPORT',
      `no transport could connect: ${failures.map((f) => f.message).join('; ') || 'none configured'}`,
      { cause: failures },
    );
  }

  private async openOnNode(
    i: number,
    events: TransportEvents,
    failures: Error[],
  ): Promise<ClientTransport | null> {
    const endpoints = this.nodes.at(i);
    const usable = this.transports.filter(
      (k) => endpoints[k] !== undefined && this.factories[k] !== undefined,
    );
    const preferred = usable[0];
    let preferredFailed = false;
    for (const kind of this.memory.order(usable)) {
      if (this.host.isClosing()) break;
      const url = endpoints[kind]!;
      const factory = this.factories[kind]!;
      try {
        const certHashes = kind === 'wt' ? await this.host.certHashes() : [];
        const transport = await factory({ url, certHashes, timeoutMs: this.timeoutMs, events });
        this.host.onAttempt({ kind, url, ok: true });
        if (kind === this.transports[0]) this.memory.forget();
        else if (preferredFailed) this.memory.rememberFallback(kind);
        return transport;
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        failures.push(e);
        if (kind === preferred) preferredFailed = true;
        this.host.onAttempt({ kind, url, ok: false, error: e.message });
      }
    }
    return null;
  }
}
