#!/usr/bin/env node
// Thin launcher so `ferry` works from npm's bin link; the CLI itself lives in src/cli.ts (built to dist/).
import { main } from '../dist/cli.js';

main(process.argv).catch((err) => {
  process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
