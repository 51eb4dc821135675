/**
 * Where the WebTransport server's certificate comes from.
 *
 * Development (no certificate configured): `CertificateManager` keeps short-lived self-signed ECDSA P-256
 * certificates in `<dataDir>/certs/` that browsers accept through `serverCertificateHashes` (W3C
 * WebTransport: validity <= 14 days, so they must be rotated). Rotation overlaps: when the current
 * certificate has less than `renewBeforeMs` left, the next one is generated and both hashes are
 * published; when it has less than `switchBeforeMs` left, the server switches to the next one for new
 * connections. A client that fetched the hashes before the switch therefore still holds the hash of the
 * certificate it will meet after it.
 *
 * Production: `CaCertificate` serves a CA-issued pair from files; browsers verify it normally, so no
 * hashes are published and nothing rotates here (renewal is the operator's, followed by a restart).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WtLogger } from './api.js';
import {
  DEV_CERT_VALIDITY_MS,
  generateDevCertificate,
  inspectCertificate,
  pinProblem,
  promoteNextSlot,
  readSlot,
  writeSlot,
  type CertificateHash,
  type ServingCertificate,
} from './cert-files.js';

export {
  DEV_CERT_VALIDITY_MS,
  generateDevCertificate,
  type CertificateHash,
  type ServingCertificate,
} from './cert-files.js';

const DAY_MS = 24 * 3600_000;
/** Generate the next certificate when the current one has less than this left (8 days into 13). */
export const RENEW_BEFORE_MS = 5 * DAY_MS;
/** Switch to the next certificate when the current one has less than this left (3 days of overlap). */
export const SWITCH_BEFORE_MS = 2 * DAY_MS;
/** How often the timer looks at the clock and at the files (`ferry certs --rotate` is picked up then). */
export const CHECK_INTERVAL_MS = 10 * 60_000;

/** Called with the certificate new connections should get from now on. */
export type RotateListener = (cert: ServingCertificate) => void;

/** What the WebTransport server and the admin endpoint need from either kind of certificate. */
export interface CertificateSource {
  /** True for a CA-issued certificate: browsers verify it by name, no hashes are needed. */
  readonly ca: boolean;
  /** The pair new connections get now. */
  current(): ServingCertificate;
  /** Hashes of every certificate a client may meet until the next fetch (empty for a CA certificate). */
  currentHashes(): CertificateHash[];
  /** Registers a listener for switches of `current()`; returns the function that removes it. */
  onRotate(listener: RotateListener): () => void;
  /** Stops the timer, if any. Idempotent. */
  close(): void;
}

export interface CertificateManagerOptions {
  dataDir: string;
  /** Names besides localhost/127.0.0.1/::1 the certificate must cover (the configured host). */
  hostNames?: readonly string[];
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  logger?: WtLogger;
  validityMs?: number;
  renewBeforeMs?: number;
  switchBeforeMs?: number;
  checkIntervalMs?: number;
}

/** Development certificates with automatic, overlapping rotation (see the file comment). */
export class CertificateManager implements CertificateSource {
  readonly ca = false;
  /** `<dataDir>/certs`. */
  readonly dir: string;
  private readonly opts: CertificateManagerOptions;
  private readonly now: () => number;
  private readonly listeners = new Set<RotateListener>();
  private cur: ServingCertificate | null = null;
  private nxt: ServingCertificate | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Checks run one at a time: the timer and `rotate()` must not both write the files. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: CertificateManagerOptions) {
    this.opts = opts;
    this.dir = join(opts.dataDir, 'certs');
    this.now = opts.now ?? Date.now;
  }

  /** Loads usable certificates from disk, generating (and writing) what is missing. No timer yet. */
  static async open(opts: CertificateManagerOptions): Promise<CertificateManager> {
    const m = new CertificateManager(opts);
    await m.check();
    return m;
  }

  current(): ServingCertificate {
    if (this.cur === null) throw new Error('CertificateManager used before open() resolved');
    return this.cur;
  }

  /** The certificate generated ahead of the switch, during the overlap; null otherwise. */
  next(): ServingCertificate | null {
    return this.nxt;
  }

  currentHashes(): CertificateHash[] {
    return [this.cur, this.nxt].filter((c): c is ServingCertificate => c !== null).map((c) => c.hash);
  }

  onRotate(listener: RotateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the periodic check (unref'd: it never keeps the process alive). Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) =>
        this.opts.logger?.error({ err, dir: this.dir }, 'webtransport certificate check failed'),
      );
    }, this.opts.checkIntervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Brings memory and files in line with the clock: adopts certificates another process wrote,
   * switches to the next certificate when the current one is due, generates what is missing.
   * Resolves true when `current()` changed (listeners have been called).
   */
  check(): Promise<boolean> {
    return this.serial(() => this.reconcile(false));
  }

  /** Replaces the current certificate with a fresh one now (`ferry certs --rotate`). */
  async rotate(): Promise<ServingCertificate> {
    await this.serial(() => this.reconcile(true));
    return this.current();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reconcile(force: boolean): Promise<boolean> {
    const now = this.now();
    const { dir } = this;
    const hostNames = this.opts.hostNames ?? [];
    const usable = (c: ServingCertificate | null): c is ServingCertificate =>
      c !== null && pinProblem(c, now, hostNames) === null;
    const left = (c: ServingCertificate): number => c.notAfter.getTime() - now;
    const [diskCur, diskNext] = await Promise.all([readSlot(dir, 'current'), readSlot(dir, 'next')]);

    // A file that cannot be read right now (another process mid-write) must not cost a rotation.
    let cur = usable(diskCur) ? diskCur : usable(this.cur) ? this.cur : null;
    let next = usable(diskNext) ? diskNext : null;
    // A next certificate older than the current one (left over from before a forced rotation) is stale.
    if (next !== null && cur !== null && next.notAfter <= cur.notAfter) next = null;

    if (force || cur === null || left(cur) < this.switchBeforeMs) {
      if (!force && next !== null) {
        cur = await promoteNextSlot(dir, next);
      } else {
        cur = await writeSlot(dir, 'current', await this.generate(now));
      }
      next = null;
    }
    if (next === null && left(cur) < (this.opts.renewBeforeMs ?? RENEW_BEFORE_MS)) {
      next = await writeSlot(dir, 'next', await this.generate(now));
    }

    const previous = this.cur;
    this.cur = cur;
    this.nxt = next;
    if (previous !== null && previous.hash.hex === cur.hash.hex) return false;
    this.opts.logger?.info(
      { dir, sha256: cur.hash.hex, notAfter: cur.hash.notAfter, next: next?.hash.hex ?? null },
      previous === null ? 'webtransport certificate loaded' : 'webtransport certificate rotated',
    );
    if (previous !== null) this.emit(cur);
    return previous !== null;
  }

  private get switchBeforeMs(): number {
    return this.opts.switchBeforeMs ?? SWITCH_BEFORE_MS;
  }

  private generate(now: number): Promise<ServingCertificate> {
    return generateDevCertificate({
      now,
      validityMs: this.opts.validityMs ?? DEV_CERT_VALIDITY_MS,
      ...(this.opts.hostNames !== undefined ? { hostNames: this.opts.hostNames } : {}),
    });
  }

  private emit(cert: ServingCertificate): void {
    for (const listener of this.listeners) {
      try {
        listener(cert);
      } catch (err) {
        this.opts.logger?.error({ err }, 'webtransport certificate rotate listener failed');
      }
    }
  }
}

/** A CA-issued certificate and key from files (`wt.cert`, `wt.key`): served as is, never rotated. */
export class CaCertificate implements CertificateSource {
  readonly ca = true;

  private constructor(private readonly cert: ServingCertificate) {}

  /** Reads and checks the pair (the key must match the first certificate of the chain). */
  static async load(certPath: string, keyPath: string): Promise<CaCertificate> {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return new CaCertificate(inspectCertificate(certPem, keyPem, certPath, keyPath));
  }

  current(): ServingCertificate {
    return this.cert;
  }

  currentHashes(): CertificateHash[] {
    return [];
  }

  onRotate(): () => void {
    return () => undefined;
  }

  close(): void {}
}
