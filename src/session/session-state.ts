/** Session states, in order: a session only moves forward. */
export const STATE_AUTHENTICATING = 0;
export const STATE_OPEN = 1;
export const STATE_CLOSING = 2;
export const STATE_CLOSED = 3;
export type SessionState = 0 | 1 | 2 | 3;
