/**
 * Real business-service processes for the upstream tests (test/fixtures/upstream/*.mjs): spawned with
 * plain node, their JSON-line stdout collected so a test can wait for an event. Only processes started
 * here are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface ServiceEvent {
  event: string;
  msgId?: string;
  userId?: string;
  type?: number;
  attempt?: number;
  [k: string]: unknown;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class ServiceProcess {
  readonly events: ServiceEvent[] = [];
  stderr = '';
  private waiters: { pred: (e: ServiceEvent) => boolean; resolve: () => void }[] = [];
  private readonly exited: Promise<void>;

  private constructor(readonly proc: ChildProcess) {
    live.add(proc);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void this.exited.then(() => live.delete(proc));
    createInterface({ input: proc.stdout! }).on('line', (line: string) => {
      try {
        this.push(JSON.parse(line) as ServiceEvent);
      } catch {
        // not one of ours
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Starts `test/fixtures/upstream/<name>.mjs` with `env`. */
  static start(
    name: 'grpc-instance' | 'redis-consumer' | 'amqp-consumer',
    env: Record<string, string>,
  ): ServiceProcess {
    const file = fileURLToPath(new URL(`../../fixtures/upstream/${name}.mjs`, import.meta.url));
    const proc = spawn(process.execPath, [file], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    return new ServiceProcess(proc);
  }

  /** Messages this service received (`msg` events). */
  get messages(): ServiceEvent[] {
    return this.events.filter((e) => e.event === 'msg');
  }

  /** Resolves once an event matching `pred` has been seen (already or later). */
  waitFor(pred: (e: ServiceEvent) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.events.some(pred)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`service event not seen; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Writes a control line (stall, resume, exit). */
  command(line: string): void {
    this.proc.stdin?.write(`${line}\n`);
  }

  /** SIGKILL (a crash) and wait for the exit. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  private push(e: ServiceEvent): void {
    this.events.push(e);
    const ready = this.waiters.filter((w) => w.pred(e));
    this.waiters = this.waiters.filter((w) => !w.pred(e));
    for (const w of ready) w.resolve();
  }
}
