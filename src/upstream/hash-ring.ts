/**
 * A consistent-hash ring with virtual nodes (Karger et al. 1997): each member owns `vnodes` points on
 * a 32-bit circle and a key belongs to the first point at or after its hash. When a member joins or
 * leaves only the keys next to its points move (about 1/n of them), so a user's messages stay on the
 * same service instance while instances come and go, which keeps per-user state warm and ordered.
 */

/** Points per member: ~160 keeps the load within a few percent of even for small member counts. */
export const DEFAULT_VNODES = 160;

/**
 * 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so that similar strings
 * ("inst-1#0", "inst-1#1") land far apart on the circle (plain FNV clusters them).
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The ring. Members are opaque ids; rebuilding on change is O(members x vnodes x log). */
export class HashRing {
  private readonly vnodes: number;
  private readonly members = new Set<string>();
  private points: Uint32Array = new Uint32Array(0);
  private owners: string[] = [];

  constructor(vnodes = DEFAULT_VNODES) {
    this.vnodes = vnodes;
  }

  get size(): number {
    return this.members.size;
  }

  has(member: string): boolean {
    return this.members.has(member);
  }

  /** Current members, in insertion order. */
  list(): string[] {
    return [...this.members];
  }

  add(member: string): void {
    if (this.members.has(member)) return;
    this.members.add(member);
    this.rebuild();
  }

  remove(member: string): void {
    if (this.members.delete(member)) this.rebuild();
  }

  /** The member owning `key`, or undefined when the ring is empty. */
  lookup(key: string): string | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo];
  }

  private rebuild(): void {
    const entries: [number, string][] = [];
    for (const m of this.members)
      for (let i = 0; i < this.vnodes; i++) entries.push([hash32(`${m}#${i}`), m]);
    // Ties (rare 32-bit collisions) are broken by member id so every node builds the same ring.
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = entries.map((e) => e[1]);
  }
}
