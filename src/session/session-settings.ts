/**
 * The numbers and rules every session of one gateway follows, derived once from the configuration:
 * sessions hold one pointer to them instead of copies, which keeps the per-connection object small.
 */
import { permissionsFromConfig, type Permissions } from '../auth/permissions.js';
import type { FerryConfig } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import { ReservedUserIds } from '../protocol/identifier.js';
import { validationLimits, type ValidationLimits } from '../protocol/validate.js';
import { PRIORITY_EPHEMERAL, type QueueSettings } from './outbound-queue.js';
import type { RateLimits } from './rate-limiter.js';

/**
 * Transport write buffer level above which frames wait in the session's queue. Above Node's default
 * socket high-water mark (16 KiB), so a backed-up socket has returned false from write() and will emit
 * 'drain'; capped by the queue cap so small caps still queue before they overflow.
 */
const HIGH_WATER_MARK = 64 * 1024;

export interface SessionSettings {
  readonly nodeId: string;
  /** Prefix of session ids: node id and boot time, so ids stay unique across restarts. */
  readonly sessionIdPrefix: string;
  readonly authDeadlineMs: number;
  readonly heartbeatMs: number;
  readonly idleTimeoutMs: number;
  /** QoS-1 user deliveries one session may have unacked. */
  readonly maxInflight: number;
  /** QoS-1 requests of one connection awaiting their answer before it is no longer read. */
  readonly maxInflightSends: number;
  readonly maxFrameBytes: number;
  readonly maxSubscriptions: number;
  readonly duplicateDevice: 'replace-old' | 'reject-new';
  readonly validation: ValidationLimits;
  /** Topic rules and presence visibility (docs/security.md). */
  readonly permissions: Permissions;
  /** Server-only user ids (`$`-prefixed and `auth.reservedUserIds`): a client Send to one is 103. */
  readonly reservedUserIds: ReservedUserIds;
  readonly rateLimits: RateLimits;
  readonly queue: QueueSettings;
  /** Retry advice for sends refused while draining. */
  readonly drainRetryAfterMs: number;
}

/** Derives the settings; `metrics` gives the outbound queues their gauges and drop counters. */
export function sessionSettings(c: FerryConfig, nodeId: string, metrics: Metrics): SessionSettings {
  const dropped = {
    ephemeral: metrics.messagesDropped.labels('ephemeral'),
    qos0: metrics.messagesDropped.labels('qos0'),
  };
  return {
    nodeId,
    sessionIdPrefix: `${nodeId}-${Date.now().toString(36)}-`,
    authDeadlineMs: c.auth.deadlineMs,
    heartbeatMs: c.session.heartbeatMs,
    idleTimeoutMs: c.session.idleTimeoutMs,
    maxInflight: Math.max(1, c.session.maxInflight),
    maxInflightSends: Math.max(1, c.session.maxInflightSends),
    maxFrameBytes: c.limits.maxFrameBytes,
    maxSubscriptions: c.limits.maxSubscriptionsPerConnection,
    duplicateDevice: c.auth.duplicateDevice,
    validation: validationLimits(c.limits),
    permissions: permissionsFromConfig(c),
    reservedUserIds: new ReservedUserIds(c.auth.reservedUserIds),
    rateLimits: {
      framesPerSecond: c.limits.framesPerSecond,
      bytesPerSecond: c.limits.bytesPerSecond,
      floodToleranceSeconds: c.limits.floodToleranceSeconds,
      controlFrameCost: c.limits.controlFramePercent / 100,
    },
    queue: {
      highWaterMark: Math.min(HIGH_WATER_MARK, Math.max(1, Math.floor(c.limits.outboundQueueBytes / 4))),
      capBytes: c.limits.outboundQueueBytes,
      shedQos0: false,
      queueBytes: metrics.outboundQueueBytes,
      queueFrames: metrics.outboundQueueFrames,
      onShed: (priority, frames) =>
        (priority === PRIORITY_EPHEMERAL ? dropped.ephemeral : dropped.qos0).inc(frames),
    },
    drainRetryAfterMs: c.drain.reconnectDelayMs,
  };
}
