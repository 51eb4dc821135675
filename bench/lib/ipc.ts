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
