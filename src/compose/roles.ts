/**
 * What runs on a node of each `access.role` (docs/access-api.md, "Roles"): 'access' runs no client
 * listeners; 'message' no gRPC server, and asks the access service about every token; 'all' checks
 * tokens itself, refusing those of logged-out sessions. Read from the configuration, never written
 * into it: `config print` and the console show what the operator set.
 */
import type { FerryConfig } from '../config/schema.js';

export interface RolePlan {
  /** The client listeners run as configured (`ws`, `tcp`, `wt`); false: none runs. */
  clientListeners: boolean;
  /** The gRPC access API runs as configured (`grpc.enabled`); false: it does not. */
  grpc: boolean;
  /** Client tokens are judged by the access service over gRPC instead of on this node. */
  remoteAuth: boolean;
}

export function planRoles(config: Pick<FerryConfig, 'access'>): RolePlan {
  const role = config.access.role;
  return { clientListeners: role !== 'access', grpc: role !== 'message', remoteAuth: role === 'message' };
}
