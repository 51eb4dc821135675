/**
 * Waiting helpers for the conformance suites. Networked implementations deliver asynchronously, so
 * assertions about deliveries are retried until they pass or a deadline, never timed.
 */

import { TIME_FACTOR } from '../helpers/time-factor.js';

export { TIME_FACTOR };

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
