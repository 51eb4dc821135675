/**
 * Reading another process's resource use from /proc (Linux): resident memory, CPU time and open file
 * descriptors of the server under test, and whole-machine CPU, so a report can say whether the
 * server, the load generator or the machine was the limit.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** USER_HZ: /proc reports CPU times in these ticks (100 on every mainstream Linux build). */
const CLOCK_TICKS = 100;

/** VmRSS of `pid` in bytes, or NaN if the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** User and system (kernel) CPU seconds consumed by `pid` so far (NaN if gone). */
export function cpuTimes(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): utime is field 14.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) / CLOCK_TICKS, system: Number(rest[12]) / CLOCK_TICKS };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/** User + system CPU seconds consumed by `pid` so far (NaN if gone). */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** Number of open file descriptors of `pid` (NaN if unreadable). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Read-like and write-like system calls made by `pid` so far (/proc/<pid>/io; NaN if unreadable). */
export function syscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/^syscr: (\d+)/m.exec(io)?.[1]), writes: Number(/^syscw: (\d+)/m.exec(io)?.[1]) };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}

/** True while `pid` exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whole-machine CPU counters (ticks), to compute utilisation between two samples. */
export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Busy share of all cores between two samples, 0..1. */
export function machineBusy(a: MachineCpu, b: MachineCpu): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}

/**
 * Calls `begin` when the measured window opens (after the warm-up) and resolves with `end`'s reading
 * when it closes, so server and machine CPU cover the same span as the workers' own window.
 */
export function overWindow<B, R>(
  warmupMs: number,
  durationMs: number,
  begin: () => B,
  end: (b: B) => R,
): Promise<R> {
  return new Promise<R>((resolve) => {
    setTimeout(() => {
      const b = begin();
      setTimeout(() => resolve(end(b)), durationMs);
    }, warmupMs);
  });
}

/**
 * Cores the machine spent on something other than the processes whose CPU shares (1 = one core) are
 * given: another tenant, or kernel work not charged to them, would make a result unfair.
 */
export function otherCores(busy: number, ...shares: number[]): number {
  return Math.max(0, busy * os.availableParallelism() - shares.reduce((a, b) => a + b, 0));
}

/**
 * Tracks one process's CPU over an interval; `share()` is CPU seconds per wall second (1 = one core),
 * `split()` the same for user space and kernel separately.
 */
export class CpuMeter {
  private cpu0: { user: number; system: number };
  private wall0: number;

  constructor(private readonly pid: number) {
    this.cpu0 = cpuTimes(pid);
    this.wall0 = performance.now();
  }

  split(): { user: number; system: number } {
    const wall = (performance.now() - this.wall0) / 1000;
    const t = cpuTimes(this.pid);
    if (wall <= 0) return { user: 0, system: 0 };
    return { user: (t.user - this.cpu0.user) / wall, system: (t.system - this.cpu0.system) / wall };
  }

  share(): number {
    const s = this.split();
    return s.user + s.system;
  }
}

/** A short description of this machine for result files. */
export function machineInfo(): Record<string, string | number> {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) model = m[1];
  } catch {
    // keep os.cpus()
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel: model,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: os.release(),
  };
}
