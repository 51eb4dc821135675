/**
 * CPU profiles with Linux `perf` of a server started with `node --perf-basic-prof`: unlike V8's
 * --cpu-prof (which samples wall time and charges a socket write's kernel work, and any wait for a
 * core, to "writev"), perf samples where the CPU actually is — kernel TCP stack, V8/Node C++, GC, or
 * JIT-compiled JavaScript — so the shares add up to the server's real CPU use. JavaScript symbols
 * ("JS:*fn file:///…/dist/x.js:L:C") are mapped back to src/*.ts:line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { originalPosition } from './profile.js';

export function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Samples `pid` (with call graphs) at 999 Hz for `seconds` into `outFile`; resolves once written. */
export function recordPerf(pid: number, seconds: number, outFile: string): Promise<void> {
  const child: ChildProcess = spawn(
    'perf',
    ['record', '-F', '999', '-g', '-p', String(pid), '-o', outFile, '--', 'sleep', String(seconds)],
    { stdio: 'ignore' },
  );
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface PerfSymbol {
  share: number;
  dso: string;
  symbol: string;
  /** src/…ts:line for JavaScript, else the DSO. */
  location: string;
}

export interface PerfSummary {
  samples: number;
  /** Share of samples in the kernel, in the node binary (V8, libuv, Node C++, GC), in JIT JS, in libc. */
  categories: Record<string, number>;
  top: PerfSymbol[];
  /** JavaScript self time per file (src/… after mapping, node:…, node_modules/<pkg>), share of all samples. */
  jsByFile: { file: string; share: number }[];
}

const JS_SYMBOL = /^JS:[*~^]?(.*?) (\S+):(\d+):(\d+)$/;

function category(dso: string): string {
  if (dso.includes('kernel')) return 'kernel';
  if (dso.startsWith('[JIT]') || dso.startsWith('perf-')) return 'JavaScript (JIT)';
  if (dso === 'node') return 'node binary (V8, GC, libuv, C++)';
  if (dso.startsWith('libc')) return 'libc';
  return 'other';
}

function jsLocation(file: string, line: number, col: number, root: string): string {
  if (file.startsWith('file://') || file.startsWith('/')) {
    const path = file.startsWith('/') ? file : fileURLToPath(file);
    if (path.startsWith(`${root}/dist/`)) return originalPosition(path, line - 1, col - 1, root);
    const nm = path.indexOf('/node_modules/');
    if (nm >= 0) return `${path.slice(nm + 1)}:${line}`;
    return `${path.startsWith(root) ? path.slice(root.length + 1) : path}:${line}`;
  }
  return `${file}:${line}`;
}

function fileOf(location: string): string {
  const bare = location.replace(/:\d+$/, '');
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(bare);
  return m ? `node_modules/${m[1]}` : bare;
}

/** Reads `perf report` for `file`; JS locations are mapped through `root`'s dist/*.js.map files. */
export function summarizePerf(file: string, root: string, top = 30): PerfSummary {
  const r = spawnSync(
    'perf',
    [
      'report',
      '-i',
      file,
      '--stdio',
      '-n',
      '--no-children',
      '--sort',
      'dso,sym',
      '-g',
      'none',
      '--percent-limit',
      '0.01',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  let samples = 0;
  const categories: Record<string, number> = {};
  const symbols: PerfSymbol[] = [];
  const files = new Map<string, number>();
  const byKey = new Map<string, PerfSymbol>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(\d+)\s+(\S+(?: tid \d+)?)\s+\[([.k])\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const share = Number(m[1]) / 100;
    samples += Number(m[2]);
    const dso = m[3]!;
    const symbol = m[5]!.trim();
    const cat = category(dso);
    categories[cat] = (categories[cat] ?? 0) + share;
    let location = dso;
    const js = JS_SYMBOL.exec(symbol);
    if (js) {
      location = jsLocation(js[2]!, Number(js[3]), Number(js[4]), root);
      const f = fileOf(location);
      files.set(f, (files.get(f) ?? 0) + share);
    }
    // One function appears once per JIT tier (interpreted, baseline, optimised): merge them.
    const name = js ? js[1] || '(anonymous)' : symbol;
    const key = `${name} ${location}`;
    const seen = byKey.get(key);
    if (seen) seen.share += share;
    else {
      const entry = { share, dso, symbol: name, location };
      byKey.set(key, entry);
      symbols.push(entry);
    }
  }
  symbols.sort((a, b) => b.share - a.share);
  return {
    samples,
    categories,
    top: symbols.slice(0, top),
    jsByFile: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([f, share]) => ({ file: f, share })),
  };
}

export interface FrameCost {
  /** "fn src/…ts:line", or a description of samples with no Ferry frame on their stack. */
  frame: string;
  share: number;
}

export interface FrameAttribution {
  samples: number;
  /** Each sample charged to the innermost frame of the server's own code on its stack: that function plus what it calls below Ferry (ws, Node streams, kernel, GC it triggered). */
  nearest: FrameCost[];
  /** Each sample counted once for every Ferry function on its stack. */
  inclusive: FrameCost[];
}

/**
 * Reads a perf recording made with call graphs (`perf record -g`) and charges every sample to the
 * innermost frame of the measured code (JavaScript under `codeDir`, by default `<root>/dist/`),
 * mapped to src/*.ts:line.
 * This answers "which of our functions cost the CPU, kernel work included", which flat profiles do not.
 */
export function attributeToFrames(
  file: string,
  root: string,
  codeDir = `${root}/dist/`,
  top = 25,
): FrameAttribution {
  const r = spawnSync('perf', ['script', '-i', file, '-F', 'ip,sym,dso'], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
  });
  const nearest = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const labelCache = new Map<string, string | null>();
  /** "fn src/x.ts:line" for a Ferry frame, null for anything else. */
  const ferryLabel = (symbol: string): string | null => {
    let label = labelCache.get(symbol);
    if (label !== undefined) return label;
    label = null;
    const js = JS_SYMBOL.exec(symbol);
    if (js && js[2]!.includes(codeDir)) {
      label = `${js[1] || '(anonymous)'} ${jsLocation(js[2]!, Number(js[3]), Number(js[4]), root)}`;
    }
    labelCache.set(symbol, label);
    return label;
  };
  let samples = 0;
  for (const block of r.stdout.split(/\n\s*\n/)) {
    const frames = block
      .split('\n')
      .map((l) => /^\s*[0-9a-f]+ (.*) \(([^)]*)\)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ symbol: m[1]!.trim(), dso: m[2]! }));
    if (frames.length === 0) continue;
    samples++;
    let charged: string | null = null;
    const seen = new Set<string>();
    for (const f of frames) {
      const label = ferryLabel(f.symbol);
      if (label === null) continue;
      charged ??= label;
      seen.add(label);
    }
    if (charged === null) {
      const leaf = frames[0]!;
      const anyJs = frames.find((f) => f.symbol.startsWith('JS:'));
      charged = anyJs
        ? `(no server frame) ${anyJs.symbol.replace(JS_SYMBOL, (_m, fn: string, loc: string, line: string) => `${fn} ${jsLocation(loc, Number(line), 1, root)}`)}`
        : `(no JS frame: ${category(leaf.dso.includes('kernel') ? 'kernel' : (leaf.dso.split('/').pop() ?? leaf.dso))})`;
    }
    nearest.set(charged, (nearest.get(charged) ?? 0) + 1);
    for (const s of seen) inclusive.set(s, (inclusive.get(s) ?? 0) + 1);
  }
  const rank = (m: Map<string, number>): FrameCost[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, n]) => ({ frame, share: samples > 0 ? n / samples : 0 }));
  return { samples, nearest: rank(nearest), inclusive: rank(inclusive) };
}
