/**
 * How much slower than a quiet developer machine the tests may run: every time budget (test
 * timeouts, deadlines of awaited events, load durations) is multiplied by it. Set
 * FERRY_TEST_TIME_FACTOR=3 on a slow or shared machine; unset, unparseable or below 1 means 1.
 * Parsed here only, so every test scales the same way.
 */
export const TIME_FACTOR = parseTimeFactor(process.env.FERRY_TEST_TIME_FACTOR);

/** The factor a FERRY_TEST_TIME_FACTOR value stands for (>= 1). */
export function parseTimeFactor(raw: string | undefined): number {
  const n = Number(raw ?? '1');
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/** `ms` scaled by TIME_FACTOR. */
export function scaled(ms: number): number {
  return ms * TIME_FACTOR;
}
