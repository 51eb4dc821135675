/**
 * Coordinator ↔ worker plumbing: fork a bench script as a worker, wait for a typed reply, and make
 * sure no worker outlives its run.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Forks `script` with `--worker` and this process's Node flags (so tsx carries over when used). */
export function forkWorker(script: string): ChildProcess {
  return fork(script, ['--worker'], { execArgv: process.execArgv, stdio: 'inherit' });
}

/** Resolves with the next message of `type` from `child`; rejects if it exits first or on timeout. */
export function nextMessage<T>(child: ChildProcess, type: string, timeoutMs = 600_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: { type: string }): void => {
      if (msg.type !== type) return;
      cleanup();
      resolve(msg as T);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`worker ${child.pid} exited (${code}) while waiting for "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker ${child.pid}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends `msg` and waits for the reply of `type`. */
export function request<T>(child: ChildProcess, msg: unknown, type: string, timeoutMs?: number): Promise<T> {
  const reply = nextMessage<T>(child, type, timeoutMs);
  child.send(msg as object);
  return reply;
}

/** Asks every worker to exit, then kills any still running after 3 s. */
export async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 3000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (child.connected) child.send({ type: 'exit' });
          else child.kill('SIGTERM');
        }),
    ),
  );
}

/** Worker k of `procs` gets pairs [pairStart, pairEnd) of `pairs`, and that share of the aggregate rate. */
export function pairSlice(
  k: number,
  procs: number,
  pairs: number,
  rate: number,
): { pairStart: number; pairEnd: number; rate: number } {
  const pairStart = Math.floor((k * pairs) / procs);
  const pairEnd = Math.floor(((k + 1) * pairs) / procs);
  return { pairStart, pairEnd, rate: rate > 0 ? (rate * (pairEnd - pairStart)) / pairs : 0 };
}

/** How a forked worker answers its coordinator: each handler's result is sent back as the reply. */
export interface WorkerHandlers<I, S> {
  init(msg: I): Promise<unknown>;
  start(msg: S): Promise<unknown>;
  exit(): void;
}

/**
 * Worker side of {@link request}: obeys init/start/exit. `exitDelayMs` lets closes reach the server
 * before the process goes; a failed run exits non-zero so the coordinator's wait fails at once.
 */
export function serveWorker<I extends { type: 'init' }, S extends { type: 'start' }>(
  name: string,
  handlers: WorkerHandlers<I, S>,
  exitDelayMs = 200,
): void {
  let initialised = false;
  const reply = (p: Promise<unknown>): void => {
    p.then(
      (msg) => process.send?.(msg as object),
      (err: unknown) => {
        process.stderr.write(`${name}: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  // A worker never outlives its coordinator.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: I | S | { type: 'exit' }) => {
    if (msg.type === 'init') {
      initialised = true;
      reply(handlers.init(msg as I));
    } else if (msg.type === 'start' && initialised) {
      reply(handlers.start(msg as S));
    } else if (msg.type === 'exit') {
      handlers.exit();
      setTimeout(() => process.exit(0), exitDelayMs);
    }
  });
}
