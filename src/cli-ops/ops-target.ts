/**
 * Where the operator commands call: the access API at `--server` with `--api-key` (flags, env, or a
 * local node's development key), and their two kinds of failure. Loads no gRPC code, so the `ferry`
 * command does not load grpc-js until an operator command calls (ops-client.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_API_KEY_DIR } from '../access/dev-api-key.js';
import { DEV_SECRET_FILE } from '../auth/jwt/dev-secret.js';

/** Where and how to call (flags, else env, else defaults). */
export interface OpsTarget {
  server: string;
  /** The API key, and where it came from (for messages). */
  apiKey: string;
  keySource: string;
  tlsCa: string;
  timeoutMs: number;
}

/** The options every operator command takes. */
export interface OpsFlags {
  server?: string;
  apiKey?: string;
  dataDir?: string;
  tlsCa?: string;
  timeout?: string;
}

/** Default `--server`: the gRPC port of a node on this machine. */
export const DEFAULT_SERVER = '127.0.0.1:50051';

/** A failure the operator can act on; the CLI prints its message and exits 1. */
export class OpsError extends Error {}

/**
 * The target from flags, env (`FERRY_SERVER`, `FERRY_API_KEY`, `FERRY_TLS_CA`, `FERRY_DATA_DIR`) and,
 * when no key is given, the development API key a zero-config node wrote in
 * `<dataDir>/access/dev-secret` (so `ferry status` works next to `ferry start` with no setup).
 */
export async function resolveTarget(
  flags: OpsFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<OpsTarget> {
  const server = flags.server ?? env.FERRY_SERVER ?? DEFAULT_SERVER;
  const tlsCa = flags.tlsCa ?? env.FERRY_TLS_CA ?? '';
  const timeoutMs = flags.timeout === undefined ? 5000 : Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new OpsUsageError(
      `invalid --timeout: a whole number of milliseconds, got ${JSON.stringify(flags.timeout)}`,
    );
  if (flags.apiKey !== undefined)
    return { server, apiKey: flags.apiKey, keySource: '--api-key', tlsCa, timeoutMs };
  if (env.FERRY_API_KEY !== undefined && env.FERRY_API_KEY !== '')
    return { server, apiKey: env.FERRY_API_KEY, keySource: 'FERRY_API_KEY', tlsCa, timeoutMs };
  const dataDir = flags.dataDir ?? env.FERRY_DATA_DIR ?? '.ferry';
  const path = join(cwd, dataDir, DEV_API_KEY_DIR, DEV_SECRET_FILE);
  try {
    const key = (await readFile(path, 'utf8')).trim();
    if (key !== '') return { server, apiKey: key, keySource: path, tlsCa, timeoutMs };
  } catch {
    // No development key here: say what to pass.
  }
  throw new OpsUsageError(
    `no API key: pass --api-key or set FERRY_API_KEY (a node started with no access.apiKeys keeps its development key in <dataDir>/${DEV_API_KEY_DIR}/${DEV_SECRET_FILE}; not found at ${path})`,
  );
}

/** A usage problem (exit code 2). */
export class OpsUsageError extends Error {}
