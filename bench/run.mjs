// `npm run bench -- <scenario> [flags]`: builds Ferry if dist/ is older than src/ (skip with
// --no-build), transpiles bench/*.ts to bench/.build/ (so that the servers and load generators run on
// plain `node`: the tsx loader would add a module-hooks thread and ~20 MiB RSS to every process, which
// would skew the memory figures of the baseline), then runs bench/.build/suite.js with the arguments.
// Scenarios and flags: see bench/suite.ts and bench/RESULTS.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const buildDir = join(benchDir, '.build');

/** Files under `dir` (recursively) whose name passes `keep`, skipping `skipDirs`. */
function files(dir, keep, skipDirs = []) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skipDirs.includes(path)) out.push(...files(path, keep, skipDirs));
    } else if (keep(entry.name)) out.push(path);
  }
  return out;
}

function newest(paths) {
  return paths.reduce((max, p) => Math.max(max, statSync(p).mtimeMs), 0);
}

function buildIfStale() {
  const marker = join(root, 'dist', 'cli', 'cli.js');
  const sources = [...files(join(root, 'src'), () => true), ...files(join(root, 'proto'), () => true)];
  if (existsSync(marker) && statSync(marker).mtimeMs >= newest(sources)) return;
  process.stderr.write('bench: dist/ is missing or older than src/; running `npm run build`\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    if (!existsSync(marker)) process.exit(r.status ?? 1);
    process.stderr.write('bench: WARNING: the build failed; measuring the previous dist/ build\n');
  }
}

function transpileBench() {
  rmSync(buildDir, { recursive: true, force: true });
  const skip = [buildDir, join(benchDir, 'results')];
  for (const file of files(benchDir, (n) => n.endsWith('.ts') && !n.endsWith('.d.ts'), skip)) {
    const source = readFileSync(file, 'utf8');
    // Scripts that import Ferry's TypeScript sources (codec checks, micro-benchmarks) run under tsx.
    if (source.includes("from '../src/")) continue;
    const out = join(buildDir, relative(benchDir, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

const args = process.argv.slice(2);
// BENCH_FERRY_DIR measures another checkout's dist/ (built there); this one is not rebuilt then.
const noBuild = args.includes('--no-build') || process.env.BENCH_FERRY_DIR !== undefined;
if (!noBuild) buildIfStale();
transpileBench();
const passed = args.filter((a) => a !== '--no-build');
// `webtransport` (bench/webtransport.ts) drives Ferry's WebTransport client from src/, so it runs under tsx.
// `access-push` (bench/access-push.ts) drives the gRPC client and codec from src/, so it runs under tsx too.
// `upstream` (bench/upstream.ts) drives the Upstream gRPC client and codec from src/, so it runs under tsx.
// `wt-datagrams` (bench/wt-datagrams.ts) drives Ferry's WebTransport client from src/, so it runs under tsx.
const tsxScenarios = {
  webtransport: 'webtransport.ts',
  'wt-datagrams': 'wt-datagrams.ts',
  'access-push': 'access-push.ts',
  upstream: 'upstream.ts',
};
const tsxScript = tsxScenarios[passed[0]];
const entry =
  tsxScript !== undefined
    ? ['--import', 'tsx', join(benchDir, tsxScript), ...passed.slice(1)]
    : [join(buildDir, 'suite.js'), ...passed];
const child = spawn(process.execPath, entry, {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
