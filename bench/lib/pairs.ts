/**
 * Building and connecting a worker's client pairs, the same for every pair load generator
 * (bench/lib/loadgen-worker.ts, wt-pair-worker.ts, socketio-worker.ts).
 */

/** Clients p and p + `offset` for p in [start, end), each the other's partner; a then b, pair by pair. */
export function makePairs<C extends { partner: C }>(
  start: number,
  end: number,
  offset: number,
  make: (index: number) => C,
): C[] {
  const clients: C[] = [];
  for (let p = start; p < end; p++) {
    const a = make(p);
    const b = make(p + offset);
    a.partner = b;
    b.partner = a;
    clients.push(a, b);
  }
  return clients;
}

/**
 * Runs `connect` for every client with at most `concurrency` in flight (thousands at once would
 * measure the server's accept backlog, not its steady state). Returns the failures by `reason`.
 */
export async function connectPool<C>(
  clients: readonly C[],
  concurrency: number,
  connect: (c: C) => Promise<void>,
  reason: (err: unknown) => string = (err) => (err as Error).message,
): Promise<Record<string, number>> {
  const failures: Record<string, number> = {};
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < clients.length) {
      const c = clients[next++]!;
      try {
        await connect(c);
      } catch (err) {
        const key = reason(err);
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, one));
  return failures;
}
