/**
 * The nodes a client may connect to, and which one it is on. The client sticks to the node that
 * worked last (its sessions, caches and the server's resume state are warm there) and moves on only
 * when that node cannot be reached or says it is leaving (4001 GOING_AWAY), trying the others in the
 * order given and wrapping around, so a cluster node that crashes or drains costs one reconnect.
 */
import { transportOfUrl, type Endpoints } from './options.js';
import type { TransportKind } from './transports/transport.js';

export class NodeList {
  private currentIndex = 0;

  constructor(private readonly nodes: Endpoints[]) {}

  get size(): number {
    return this.nodes.length;
  }

  /** The node in use (or to try first). */
  get current(): Endpoints {
    return this.nodes[this.currentIndex]!;
  }

  /** The index of the node in use. */
  get index(): number {
    return this.currentIndex;
  }

  /** Indices to try, the current node first, then the following ones, wrapping around. */
  order(): number[] {
    return this.nodes.map((_, i) => (this.currentIndex + i) % this.nodes.length);
  }

  /** The endpoints of node `i`. */
  at(i: number): Endpoints {
    return this.nodes[i]!;
  }

  /** A connection to node `i` opened: stay there. */
  use(i: number): void {
    this.currentIndex = i;
  }

  /** The current node is leaving: start with the next one. */
  advance(): void {
    this.currentIndex = (this.currentIndex + 1) % this.nodes.length;
  }

  /**
   * §5.8: `reconnect_url` names another node. A listed node with that URL becomes current; otherwise
   * the URL replaces the current node's endpoint of its transport. A URL for a transport this SDK does
   * not speak is ignored.
   */
  redirect(url: string): void {
    let kind: TransportKind;
    try {
      kind = transportOfUrl(url);
    } catch {
      return;
    }
    const listed = this.nodes.findIndex((n) => n[kind] === url);
    if (listed >= 0) this.currentIndex = listed;
    else this.current[kind] = url;
  }

  /** A stable key naming this set of nodes (where the transport fallback is remembered). */
  key(): string {
    return this.nodes.map((e) => `${e.wt ?? ''}|${e.ws ?? ''}|${e.tcp ?? ''}`).join(',');
  }
}
