/**
 * POST /routes/reload: re-reads the configuration and swaps in its `routes` and `upstream` sections
 * (docs/upstreams.md) without touching client connections. 200 with the new table, or 400 with the
 * configuration problems (the old table stays in force).
 */
import { ConfigError } from '../errors.js';
import { sendJson, type AdminServer } from './admin-server.js';

export interface RoutesReloadDeps {
  /** Reloads and returns the new table's description; throws ConfigError when invalid. */
  reload: () => Promise<unknown>;
}

export function registerRoutesReload(admin: AdminServer, deps: RoutesReloadDeps): void {
  admin.route('POST', '/routes/reload', async (_req, res) => {
    try {
      sendJson(res, 200, { reloaded: true, routes: await deps.reload() });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      sendJson(res, 400, { reloaded: false, errors: err.message.split('\n') });
    }
  });
}
