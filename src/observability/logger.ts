import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout (pino). `FERRY_TRACE=session,transport` turns on debug logs for the named
 * components only, like grpc-js's GRPC_TRACE, without raising the whole process to debug.
 */
export function createLogger(opts: { level: string; nodeId?: string; destination?: number }): Logger {
  return pino(
    { level: opts.level, base: { node: opts.nodeId ?? undefined }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: opts.destination ?? 1, sync: false }),
  );
}

const traced = new Set(
  (process.env.FERRY_TRACE ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** A child logger for one component; debug-level if that component is named in FERRY_TRACE. */
export function componentLogger(parent: Logger, component: string): Logger {
  const child = parent.child({ component });
  if (traced.has(component) || traced.has('all')) child.level = 'debug';
  return child;
}

/** A logger that discards everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
