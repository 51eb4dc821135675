import type { FerryConfig } from './config-types.js';
import type { Logger } from './observability/logger.js';

/** Where a running gateway listens (only the enabled listeners are present). */
export interface GatewayAddresses {
  ws?: { host: string; port: number; url: string };
  tcp?: { host: string; port: number; url: string };
  admin?: { host: string; port: number; url: string };
}

/**
 * One Ferry node: the wiring of listeners, sessions, routing, bus, store and admin.
 * (Stub: the lead is writing the real wiring; the API below is the contract.)
 */
export class Gateway {
  readonly nodeId: string;
  readonly addresses: GatewayAddresses = {};

  private constructor(config: FerryConfig) {
    this.nodeId = config.nodeId;
  }

  /** Starts every enabled listener on `config`; resolves when all are bound. */
  static async start(config: FerryConfig, _opts: { logger: Logger }): Promise<Gateway> {
    return new Gateway(config);
  }

  /**
   * Graceful drain (SIGTERM): stop accepting, refuse new sends, flush, send go-away, save the store,
   * close. Resolves `clean: false` if `drain.timeoutMs` passed with work left. Idempotent.
   */
  async drain(): Promise<{ clean: boolean }> {
    return { clean: true };
  }

  /** Abrupt stop for tests: destroys connections and closes listeners. Idempotent. */
  async close(): Promise<void> {}
}
