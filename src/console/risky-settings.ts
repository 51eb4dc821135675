/**
 * The settings of a node that an operator should know are risky in production, as one line each: the
 * console shows them as warnings, `ferry status` prints them. Development defaults are fine on a
 * laptop; on a reachable node each one is a door left open.
 */
import { hasConfiguredKeys } from '../auth/jwt/jwt-authenticator.js';
import { openPermissions } from '../auth/permissions.js';
import type { FerryConfig } from '../config/schema.js';
import { isLoopbackHost } from '../admin/admin-hosts.js';

/** Warnings for `config` (empty when nothing is risky). */
export function riskySettings(
  config: Pick<FerryConfig, 'auth' | 'access' | 'topics' | 'presence' | 'admin' | 'grpc'>,
): string[] {
  const out: string[] = [];
  if (!hasConfiguredKeys(config.auth))
    out.push(
      'client tokens are checked with the generated development secret (set auth.hmacSecrets or auth.publicKeys)',
    );
  if (config.auth.allowNoExpiry) out.push('auth.allowNoExpiry: tokens without exp never expire');
  if (
    config.grpc.enabled &&
    config.access.role !== 'message' &&
    Object.keys(config.access.apiKeys).length === 0 &&
    config.access.clientCa === ''
  )
    out.push('gRPC callers use the generated development API key (set access.apiKeys or access.clientCa)');
  for (const open of openPermissions(config)) out.push(`open: ${open}`);
  if (config.admin.enabled) {
    if (!isLoopbackHost(config.admin.host))
      out.push(`the admin port is bound beyond loopback (admin.host ${config.admin.host})`);
    if (config.admin.apiKey === '') out.push('the admin key is the generated one (set FERRY_ADMIN_KEY)');
    if (config.admin.allowedHosts.includes('*'))
      out.push(
        'admin.allowedHosts is "*": the admin port answers any Host (DNS rebinding is possible without a proxy checking it)',
      );
    if (!isLoopbackHost(config.admin.host) && !config.admin.metricsAuth)
      out.push('/metrics is readable without the admin key on a non-loopback admin port (admin.metricsAuth)');
  }
  return out;
}
