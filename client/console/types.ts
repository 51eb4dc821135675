/** The JSON of /console/api/overview (src/console/node-sample.ts and sample-store.ts, which it mirrors). */
export type { NodeSample } from '../../src/console/node-sample.js';
export type { NodeSeries } from '../../src/console/sample-store.js';
