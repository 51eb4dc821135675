/**
 * The clock of a pair worker's run (bench/lib/loadgen-worker.ts, wt-pair-worker.ts,
 * socketio-worker.ts): warm-up, measured window, grace. Open loop (`rate` > 0) sends on a 2 ms tick
 * whatever the schedule says is due, round-robin over the clients, so a slow server cannot slow the
 * offered load down (the backlog says how far the generator itself fell behind). Closed loop
 * (`rate` <= 0) sends nothing here: the worker refills its windows on deliveries, and the tick only
 * keeps time and runs the housekeeping.
 */
import { performance } from 'node:perf_hooks';

export interface PaceOptions<T> {
  /** This worker's msg/s; <= 0 = closed loop. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Open loop: who sends, in turn. */
  senders: readonly T[];
  send(sender: T): void;
  /** The measured window begins (at once when there is no warm-up). */
  onMeasure(): void;
  /** After a warm-up-less `onMeasure` and before the first tick: closed loop fills its windows here. */
  onStart?(t0: number): void;
  /** Every 20 ms while sending (acks that waited, stalled senders). */
  housekeeping?(now: number): void;
}

/** What the worker reports about its own window. */
export interface PaceReport {
  cpuSeconds: number;
  windowSeconds: number;
  pacerBacklog: number;
}

/** Runs warm-up and measured window; resolves when sending is over. */
export function pace<T>(o: PaceOptions<T>): Promise<PaceReport> {
  const openLoop = o.rate > 0;
  const t0 = performance.now();
  const sendEnd = t0 + o.warmupMs + o.durationMs;
  // This process's CPU over the measured window only: the warm-up includes JIT and connection churn.
  let cpu0 = process.cpuUsage();
  let measureStart = t0;
  let measuring = false;
  const beginMeasure = (): void => {
    measuring = true;
    cpu0 = process.cpuUsage();
    measureStart = performance.now();
    o.onMeasure();
  };
  if (o.warmupMs <= 0) beginMeasure();
  o.onStart?.(t0);
  const senders = o.senders;
  let rr = 0;
  let paced = 0;
  const due = (now: number): number => Math.floor((o.rate * (now - t0)) / 1000) - paced;
  let lastHousekeeping = t0;
  return new Promise<PaceReport>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (!measuring && now >= t0 + o.warmupMs) beginMeasure();
      if (now >= sendEnd) {
        const cpu = process.cpuUsage(cpu0);
        resolve({
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          windowSeconds: (now - measureStart) / 1000,
          pacerBacklog: openLoop ? Math.max(0, due(now)) : 0,
        });
        return;
      }
      if (openLoop && senders.length > 0) {
        const d = due(now);
        // Never burst more than 100 ms worth after a stall of the event loop.
        const n = Math.min(d, Math.ceil(o.rate / 10));
        for (let i = 0; i < n; i++) o.send(senders[rr++ % senders.length]!);
        if (d > 0) paced += d;
      }
      if (o.housekeeping !== undefined && now - lastHousekeeping >= 20) {
        lastHousekeeping = now;
        o.housekeeping(now);
      }
      setTimeout(tick, 2);
    };
    tick();
  });
}

/**
 * Grace after the window: nothing more is sent, late deliveries still count (loss = sent − delivered
 * after this). Ends early once `settled()`; runs `housekeeping` every 20 ms meanwhile.
 */
export async function grace(
  graceMs: number,
  settled: () => boolean,
  housekeeping?: (now: number) => void,
): Promise<void> {
  const graceEnd = performance.now() + graceMs;
  while (performance.now() < graceEnd) {
    housekeeping?.(performance.now());
    if (settled()) break;
    await new Promise((r) => setTimeout(r, 20));
  }
}
