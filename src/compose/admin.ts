/**
 * The admin port as configured: health, readiness, /metrics, /stats, the demo and WebTransport test
 * pages, routes reload and the operator's console. Built here, bound by the caller.
 */
import { AdminServer } from '../admin/admin-server.js';
import { loadAdminKey } from '../admin/admin-key.js';
import { registerDemoRoutes } from '../admin/demo-routes.js';
import { registerRoutesReload } from '../admin/routes-reload.js';
import type { FerryConfig } from '../config/schema.js';
import type { ConsoleAccess, OperatorConsole } from '../console/index.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CertificateSource } from '../webtransport/index.js';
import type { GatewayAddresses } from './addresses.js';

interface AdminDeps {
  config: FerryConfig;
  metrics: Metrics;
  logger: Logger;
  /** Where the client listeners listen (the demo page and the WebTransport routes link to them). */
  addresses: GatewayAddresses;
  certificates: CertificateSource | null;
  console: OperatorConsole;
  /** The access API's service and error table, for the console's actions; null without gRPC. */
  access: ConsoleAccess | null;
  stats: () => Record<string, unknown>;
  isReady: () => boolean;
  /** Moves hot-path counters into Prometheus before a scrape. */
  beforeMetrics: () => void;
  reloadRoutes: () => Promise<unknown>;
}

export async function buildAdmin(deps: AdminDeps): Promise<AdminServer> {
  const { config, metrics, logger, addresses } = deps;
  const log = componentLogger(logger, 'admin');
  const adminKey = await loadAdminKey(config);
  if (adminKey.path !== null)
    logger.warn(
      { path: adminKey.path },
      'no admin.apiKey configured: mutating admin routes and /stats take the generated admin key in this file',
    );
  const a = config.admin;
  const admin = new AdminServer({
    host: a.host,
    port: a.port,
    apiKey: adminKey.key,
    allowedHosts: a.allowedHosts,
    metricsAuth: a.metricsAuth,
    maxBodyBytes: a.maxBodyBytes,
    bodyTimeoutMs: a.bodyTimeoutMs,
    metrics,
    logger: log,
    stats: deps.stats,
    isReady: deps.isReady,
    beforeMetrics: deps.beforeMetrics,
  });
  const wt = addresses.wt;
  if (deps.certificates !== null && wt !== undefined) {
    // Its test page is only of use, and only loaded, where WebTransport runs.
    const { registerWebTransportRoutes } = await import('../admin/webtransport-routes.js');
    registerWebTransportRoutes(admin, { certificates: deps.certificates, url: wt.url });
  }
  await registerDemoRoutes(admin, { config, ws: addresses.ws?.url ?? '', wt: wt?.url ?? '', logger: log });
  registerRoutesReload(admin, { reload: deps.reloadRoutes });
  deps.console.registerRoutes(admin, deps.access, deps.reloadRoutes);
  return admin;
}
