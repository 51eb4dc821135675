/**
 * Turning profiles of the gateway into file:line lists the lead can act on:
 *  - CPU: a V8 .cpuprofile (node --cpu-prof) → top functions by self and by inclusive time, with
 *    dist/*.js positions mapped back to src/*.ts through the build's source maps;
 *  - memory: two V8 heap snapshots (before and after opening N connections) → the object kinds whose
 *    count and size grew, per connection.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------
// Source maps (v3, "mappings" only)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Per generated line: sorted [generatedColumn, sourceIndex, sourceLine, sourceColumn] segments. */
type Mappings = number[][][];

function decodeMappings(mappings: string): Mappings {
  const lines: Mappings = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  for (const line of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    for (const seg of line.split(',')) {
      if (seg === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64_INDEX.get(ch) ?? 0;
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0] ?? 0;
      if (values.length >= 4) {
        src += values[1]!;
        srcLine += values[2]!;
        srcCol += values[3]!;
        segs.push([genCol, src, srcLine, srcCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

const mapCache = new Map<string, { sources: string[]; lines: Mappings } | null>();

/** Maps a 0-based line/column of a built file to `src/…ts:line` (1-based) when a .map sits beside it. */
export function originalPosition(file: string, line0: number, col0: number, root: string): string {
  let map = mapCache.get(file);
  if (map === undefined) {
    map = null;
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) {
      const raw = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; mappings: string };
      map = {
        sources: raw.sources.map((s) => resolve(dirname(file), s)),
        lines: decodeMappings(raw.mappings),
      };
    }
    mapCache.set(file, map);
  }
  const fallback = `${relative(root, file)}:${line0 + 1}`;
  if (map === null) return fallback;
  const segs = map.lines[line0];
  if (segs === undefined || segs.length === 0) return fallback;
  let best = segs[0]!;
  for (const s of segs) {
    if (s[0]! <= col0) best = s;
    else break;
  }
  return `${relative(root, map.sources[best[1]!] ?? file)}:${best[2]! + 1}`;
}

// ---------------------------------------------------------------------------------------------------
// CPU profiles

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  location: string;
  ms: number;
  share: number;
}

export interface CpuSummary {
  totalMs: number;
  idleShare: number;
  gcShare: number;
  self: HotSpot[];
  inclusive: HotSpot[];
  /** Self time grouped by file (src/… after mapping, node:… internals, node_modules/<pkg>). */
  byFile: HotSpot[];
}

function locate(node: CpuNode, root: string): string {
  const { url, lineNumber, columnNumber } = node.callFrame;
  if (url === '') return '(native)';
  if (url.startsWith('file://')) {
    const file = fileURLToPath(url);
    if (file.startsWith(join(root, 'dist'))) return originalPosition(file, lineNumber, columnNumber, root);
    const nm = file.indexOf('/node_modules/');
    if (nm >= 0) return `${file.slice(nm + 1)}:${lineNumber + 1}`;
    return `${relative(root, file)}:${lineNumber + 1}`;
  }
  return `${url}:${lineNumber + 1}`;
}

function fileOf(location: string): string {
  if (location.startsWith('node_modules/')) {
    const parts = location.split('/');
    return parts[1]?.startsWith('@') ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/');
  }
  return location.replace(/:\d+$/, '');
}

/** Summarises a .cpuprofile: the `top` functions by self and inclusive time, and self time per file. */
export function summarizeCpuProfile(path: string, root: string, top = 20): CpuSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map<number, string>();
  const info = new Map<string, { fn: string; location: string }>();
  for (const n of profile.nodes) {
    const location = locate(n, root);
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn} ${location}`;
    keyOf.set(n.id, key);
    info.set(key, { fn, location });
  }
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const node = byId.get(id);
    const name = node?.callFrame.functionName ?? '';
    if (name === '(idle)') idle += dt;
    if (name === '(garbage collector)') gc += dt;
    const key = keyOf.get(id)!;
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf.get(cur)!;
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const rank = (m: Map<string, number>, skip: (k: string) => boolean): HotSpot[] =>
    [...m.entries()]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => ({ ...info.get(k)!, ms: v, share: busy > 0 ? v / busy : 0 }));
  const structural = (k: string): boolean => /^\((idle|root|program)\) /.test(k);
  const files = new Map<string, number>();
  for (const [k, v] of self) {
    if (structural(k)) continue;
    const f = fileOf(info.get(k)!.location);
    files.set(f, (files.get(f) ?? 0) + v);
  }
  return {
    totalMs: total,
    idleShare: total > 0 ? idle / total : 0,
    gcShare: busy > 0 ? gc / busy : 0,
    self: rank(self, structural),
    inclusive: rank(incl, (k) => structural(k) || k.startsWith('(garbage collector)')),
    byFile: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, v]) => ({ fn: '', location: f, ms: v, share: busy > 0 ? v / busy : 0 })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Heap snapshots

export interface HeapGroup {
  /** "<node type> <name>", e.g. "object Session", "closure sessionOnData", "native system / …". */
  kind: string;
  count: number;
  bytes: number;
}

interface HeapSnapshotJson {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Kinds whose name says nothing about where they come from: labelled with their retainers. */
const ANONYMOUS_KIND =
  /^(object Object|object Array|object Map|object Set|array|closure|hidden |object shape |object system)/;

/**
 * Counts and self sizes of every object kind in a .heapsnapshot: `byKind` groups by node type and
 * constructor name; `byRetainer` further splits anonymous kinds (plain objects, arrays, closures,
 * property backing stores) by the first object holding them and the property it uses
 * ("object Object <- Session.limits"), which is what points at a line of source.
 */
export function heapGroups(path: string): {
  byKind: Map<string, HeapGroup>;
  byRetainer: Map<string, HeapGroup>;
} {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotJson;
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const edgeCountAt = fields.indexOf('edge_count');
  const edgeWidth = meta.edge_fields.length;
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const edgeToAt = meta.edge_fields.indexOf('to_node');
  const edgeTypes = meta.edge_types[0];
  const nodes = snap.nodes;
  const edges = snap.edges;
  const count = nodes.length / width;

  const kinds: string[] = new Array<string>(count);
  for (let n = 0; n < count; n++) {
    const i = n * width;
    const type = types[nodes[i + typeAt]!] ?? '?';
    let name = snap.strings[nodes[i + nameAt]!] ?? '?';
    // Strings and numbers are grouped by type only; their text is data, not a kind.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number')
      name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    kinds[n] = `${type} ${name}`.trim();
  }

  // First strong retainer of every node: (retaining node, edge name).
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge: string[] = new Array<string>(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edgeCount = nodes[n * width + edgeCountAt]!;
    for (let k = 0; k < edgeCount; k++, e += edgeWidth) {
      const edgeType = edgeTypes[edges[e + edgeTypeAt]!];
      if (edgeType === 'weak' || edgeType === 'shortcut') continue;
      const to = edges[e + edgeToAt]! / width;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      const nameOrIndex = edges[e + edgeNameAt]!;
      // Indexes (array elements, hash-table slots) are not kinds: "[]" groups them all.
      const name = edgeType === 'element' || edgeType === 'hidden' ? '' : (snap.strings[nameOrIndex] ?? '?');
      retainerEdge[to] = name === '' || /^\d+$/.test(name) ? '[]' : `.${name}`;
    }
  }

  const byKind = new Map<string, HeapGroup>();
  const byRetainer = new Map<string, HeapGroup>();
  const add = (m: Map<string, HeapGroup>, kind: string, bytes: number): void => {
    const g = m.get(kind) ?? { kind, count: 0, bytes: 0 };
    g.count++;
    g.bytes += bytes;
    m.set(kind, g);
  };
  for (let n = 0; n < count; n++) {
    const kind = kinds[n]!;
    const bytes = nodes[n * width + sizeAt]!;
    add(byKind, kind, bytes);
    // Walk up (at most four hops) while the holder is itself anonymous: "array <- Map.table" says
    // little, "array <- Map.table <- SessionRegistry.byUser" says where to look.
    let label = kind;
    let cur = n;
    for (let hop = 0; hop < 4 && ANONYMOUS_KIND.test(kinds[cur]!) && retainer[cur]! >= 0; hop++) {
      const r = retainer[cur]!;
      label += ` <- ${kinds[r]!.replace(/^object /, '')}${retainerEdge[cur] ?? ''}`;
      cur = r;
    }
    add(byRetainer, label, bytes);
  }
  return { byKind, byRetainer };
}

/** What grew between two snapshots, per `per` (the number of connections opened in between). */
export function heapGrowth(
  before: Map<string, HeapGroup>,
  after: Map<string, HeapGroup>,
  per: number,
  top = 25,
) {
  const rows: { kind: string; countPer: number; bytesPer: number; totalBytes: number }[] = [];
  for (const [kind, a] of after) {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    const dBytes = a.bytes - b.bytes;
    if (dBytes <= 0) continue;
    rows.push({ kind, countPer: (a.count - b.count) / per, bytesPer: dBytes / per, totalBytes: dBytes });
  }
  rows.sort((x, y) => y.totalBytes - x.totalBytes);
  const totalPer = rows.reduce((s, r) => s + r.bytesPer, 0);
  return { totalBytesPerConnection: totalPer, top: rows.slice(0, top) };
}
