// tsc does not copy plain .js files, so the generated protobuf module is copied into dist/ after the build.
import { cpSync } from 'node:fs';

cpSync('src/protocol/generated', 'dist/protocol/generated', { recursive: true });
