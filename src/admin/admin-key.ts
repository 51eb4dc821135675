/**
 * Where the admin key comes from: `admin.apiKey` (`FERRY_ADMIN_KEY`), or, when it is not set, a key
 * the node generates once in `<dataDir>/admin/dev-secret`, the same rule as the gRPC API key
 * (`<dataDir>/access/dev-secret`): mutating admin routes are never open, with or without configuration.
 */
import { join } from 'node:path';
import { loadOrCreateDevSecret } from '../auth/jwt/dev-secret.js';
import type { FerryConfig } from '../config/schema.js';

/** Directory (inside `dataDir`) of the generated admin key. */
export const ADMIN_KEY_DIR = 'admin';

/** The admin key in force, and the file it was read from (null when configured). */
export interface AdminKeySource {
  key: string;
  path: string | null;
}

/**
 * The configured admin key, or the generated one (created on first use: 32 random bytes, base64url, file
 * mode 0600). Safe to call from several processes at once (`ferry start` and its banner both call it).
 */
export async function loadAdminKey(config: Pick<FerryConfig, 'admin' | 'dataDir'>): Promise<AdminKeySource> {
  if (config.admin.apiKey !== '') return { key: config.admin.apiKey, path: null };
  const dev = await loadOrCreateDevSecret(join(config.dataDir, ADMIN_KEY_DIR));
  return { key: dev.secret, path: dev.path };
}
