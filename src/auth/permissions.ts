/**
 * The permission settings of one node, resolved from configuration (docs/security.md): the topic
 * policy and whose presence clients see. `auto` settings are open while the node runs on its generated
 * development secret (no auth keys configured, not a message-role node) and closed otherwise (topics
 * no rule names: grant holders only; presence: granted), so `ferry start` with no setup lets any demo
 * user talk, and a node with real keys starts locked.
 */
import type { FerryConfig } from '../config/schema.js';
import { hasConfiguredKeys } from './jwt/jwt-authenticator.js';
import { TopicPolicy } from './topic-policy.js';

/** Whose presence a client may query. */
export type PresenceVisibility = 'everyone' | 'granted';

/** What sessions consult before subscribing, publishing, replaying and answering presence queries. */
export interface Permissions {
  readonly topics: TopicPolicy;
  readonly presence: PresenceVisibility;
}

/** True when `auto` settings resolve to their open, development value. */
export function usesDevelopmentDefaults(config: Pick<FerryConfig, 'auth' | 'access'>): boolean {
  return !hasConfiguredKeys(config.auth) && config.access.role !== 'message';
}

/** Builds the node's permissions from its configuration. */
export function permissionsFromConfig(
  config: Pick<FerryConfig, 'auth' | 'access' | 'topics' | 'presence'>,
): Permissions {
  const dev = usesDevelopmentDefaults(config);
  const { unmatched } = config.topics;
  const visibility = config.presence.visibility;
  return {
    topics: new TopicPolicy(config.topics.rules, unmatched === 'auto' ? (dev ? 'open' : 'grant') : unmatched),
    presence: visibility === 'auto' ? (dev ? 'everyone' : 'granted') : visibility,
  };
}

/**
 * The permissions that are open to every user on this configuration, in words, for the start banner and
 * the startup log (an operator must see at a glance what a development default left open).
 */
export function openPermissions(
  config: Pick<FerryConfig, 'auth' | 'access' | 'topics' | 'presence'>,
): string[] {
  const p = permissionsFromConfig(config);
  const dev = usesDevelopmentDefaults(config);
  const out: string[] = [];
  if (p.topics.unmatched.subscribe === 'any') {
    const why = config.topics.unmatched === 'auto' ? 'development default' : 'topics.unmatched is "open"';
    out.push(`every user may subscribe, publish and read history on topics no rule names (${why})`);
  }
  if (p.presence === 'everyone') {
    const why = config.presence.visibility === 'auto' && dev ? 'development default' : 'presence.visibility';
    out.push(`every user may see every user's presence (${why})`);
  }
  return out;
}
