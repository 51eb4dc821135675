/**
 * Observing the server under test from outside: RSS and CPU by pid (/proc) when the bench started it,
 * or Prometheus metrics from Ferry's admin port when only a URL is known.
 */
import { CpuMeter, openFds, rssBytes, syscalls } from './proc.js';

export interface ServerRef {
  pid?: number;
  adminUrl?: string;
}

/** Fetches `url` with a deadline; resolves with the status and body, or rejects. */
export async function fetchWithTimeout(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** A metric's value from Prometheus text (first sample of that name), NaN if absent. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Server RSS in bytes: /proc/<pid>/status VmRSS, else the admin /metrics resident memory gauge. */
export async function serverRss(ref: ServerRef): Promise<number> {
  if (ref.pid !== undefined) return rssBytes(ref.pid);
  if (ref.adminUrl !== undefined) {
    try {
      const { body } = await fetchWithTimeout(`${ref.adminUrl}/metrics`, 5000);
      const ferry = metricValue(body, 'ferry_process_resident_memory_bytes');
      return Number.isFinite(ferry) ? ferry : metricValue(body, 'process_resident_memory_bytes');
    } catch {
      return NaN;
    }
  }
  return NaN;
}

export function serverFds(ref: ServerRef): number {
  return ref.pid !== undefined ? openFds(ref.pid) : NaN;
}

/** CPU share of the server (1 = one core) over an interval, and its user/kernel split; NaN without a pid. */
export function serverCpuMeter(ref: ServerRef): {
  share(): number;
  split(): { user: number; system: number };
} {
  if (ref.pid === undefined) return { share: () => NaN, split: () => ({ user: NaN, system: NaN }) };
  return new CpuMeter(ref.pid);
}

/** Server read/write system calls since the meter was made (NaN without a pid). */
export function serverSyscallMeter(ref: ServerRef): { delta(): { reads: number; writes: number } } {
  if (ref.pid === undefined) return { delta: () => ({ reads: NaN, writes: NaN }) };
  const pid = ref.pid;
  const a = syscalls(pid);
  return {
    delta: () => {
      const b = syscalls(pid);
      return { reads: b.reads - a.reads, writes: b.writes - a.writes };
    },
  };
}
