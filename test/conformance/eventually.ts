/**
 * Waiting helpers for the conformance suites. Networked implementations deliver asynchronously, so
 * assertions about deliveries are retried until they pass or a deadline, never timed.
 */

/** Multiplies every deadline; set FERRY_TEST_TIME_FACTOR=3 on slow machines. */
export const TIME_FACTOR = Math.max(1, Number(process.env.FERRY_TEST_TIME_FACTOR ?? '1') || 1);

/**
 * Runs `check` until it stops throwing; rethrows its last error after `timeoutMs` (scaled). The
 * deadline only bounds waiting: nothing asserts how fast the check passed.
 */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs * TIME_FACTOR;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
