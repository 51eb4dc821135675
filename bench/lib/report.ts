/**
 * Result tables for the terminal, and the dated result blocks appended to bench/results/<name>.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './proc.js';

/** bench/ (this file is bench/lib/report.ts, or bench/.build/lib/report.js when transpiled). */
export function benchDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = join(here, '..');
  return up.endsWith('.build') ? join(up, '..') : up;
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a';
}

export function num(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function pct(share: number, digits = 0): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(digits)}%` : 'n/a';
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
}

/** Prints rows as an aligned table; the first row is the header. */
export function printTable(title: string, rows: string[][]): void {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [`\n${title}`, line(rows[0] ?? [])];
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(1)) out.push(line(row));
  process.stdout.write(out.join('\n') + '\n');
}

/**
 * Appends `{ date, scenario, argv, machine, result }` to bench/results/<name>.json (a JSON array;
 * the directory is gitignored). Returns the file path.
 */
export function appendResult(name: string, argv: string[], result: unknown): string {
  const dir = join(benchDir(), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  let blocks: unknown[] = [];
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(parsed)) blocks = parsed;
    } catch {
      // A damaged file is replaced rather than blocking the run; the old one is kept beside it.
      writeFileSync(`${file}.damaged-${Date.now()}`, readFileSync(file));
    }
  }
  blocks.push({ date: new Date().toISOString(), scenario: name, argv, machine: machineInfo(), result });
  writeFileSync(file, JSON.stringify(blocks, null, 2) + '\n');
  return file;
}
