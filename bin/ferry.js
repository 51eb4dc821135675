#!/usr/bin/env node
// Thin launcher so `ferry` works from npm's bin link; the CLI itself lives in src/cli.ts (built to dist/).
import { main } from '../dist/cli/cli.js';

// `ferry start --help | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

main(process.argv).catch((err) => {
  process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
