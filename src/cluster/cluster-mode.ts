/**
 * Whether a configuration asks for cluster mode, in a module of its own: the node decides this before
 * it loads the Redis client and the cluster's code, which a node without Redis never needs.
 */
import type { FerryConfig } from '../config/schema.js';

/** True when the config asks for cluster mode. */
export function clusterEnabled(config: FerryConfig): boolean {
  return config.redis.url !== '' || config.redis.cluster !== '' || config.redis.sentinel !== '';
}
