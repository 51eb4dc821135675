/**
 * How the operator commands reach a node: the gRPC access API at `--server` with `--api-key`, and what
 * they say when that fails (unreachable, key refused, request refused) instead of a grpc-js trace.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { DEV_API_KEY_DIR } from '../access/access-node.js';
import { callUnary, createAccessClient, type AccessClient } from '../access/client.js';
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

/** A connected access client and a `call` that turns gRPC failures into OpsErrors. */
export class OpsClient {
  private readonly client: AccessClient;

  constructor(private readonly target: OpsTarget) {
    this.client = createAccessClient(target.server, {
      apiKey: target.apiKey,
      tls: target.tlsCa === '' ? null : { ca: target.tlsCa },
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
    });
  }

  async call<T = Record<string, unknown>>(method: string, request: Record<string, unknown>): Promise<T> {
    try {
      return await callUnary<T>(this.client, method, request, { deadlineMs: this.target.timeoutMs });
    } catch (err) {
      throw new OpsError(this.explain(err as ServiceError));
    }
  }

  close(): void {
    this.client.close();
  }

  private explain(err: ServiceError): string {
    const { server, keySource } = this.target;
    switch (err.code) {
      case Status.UNAVAILABLE:
      case Status.DEADLINE_EXCEEDED:
        return `cannot reach the access API at ${server} (${reachDetail(err.details)}): is a node running there with gRPC on? Set --server or FERRY_SERVER`;
      case Status.UNAUTHENTICATED:
        return `the access API at ${server} refused the API key from ${keySource} (${err.details}): pass the right one with --api-key or FERRY_API_KEY`;
      case Status.PERMISSION_DENIED:
        return `the API key from ${keySource} may not do this: ${err.details}`;
      default:
        return `${Status[err.code] ?? err.code}: ${err.details || err.message}`;
    }
  }
}

/** grpc-js's UNAVAILABLE detail without its empty "Resolution note" tail. */
function reachDetail(details: string): string {
  return (details || 'unavailable').replace(/\.?\s*Resolution note:\s*$/, '');
}
