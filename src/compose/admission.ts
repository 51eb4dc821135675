/**
 * Admission (src/transport/admission.ts) as configured: caps per address and per node, the
 * file-descriptor budget, and the abuse penalty, with its one log line.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { FerryConfig } from '../config/schema.js';
import { componentLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { Admission, type AdmissionLimits } from '../transport/admission.js';

/** Builds the node's Admission; logs the descriptor budget once when there is one. */
export function createAdmission(config: FerryConfig, metrics: Metrics, log: Logger): Admission {
  const caps = admissionLimits(config);
  const transportLog = componentLogger(log, 'transport');
  const admission = new Admission(caps, metrics, (address, banMs) =>
    transportLog.warn(
      { address, banMs, threshold: config.limits.abuseThreshold },
      'address refused for a while: too many of its connections were cut for abuse',
    ),
  );
  if (Number.isFinite(caps.maxSocketFds)) {
    log.info(
      { socketFds: caps.maxSocketFds, reservedFds: config.limits.reservedFds },
      'file descriptors: sockets beyond the open-file limit minus the reserve are refused',
    );
  }
  return admission;
}

/** Refused sockets that may keep their descriptor at once while their answer is delivered. */
const MAX_LINGERING_REFUSALS = 64;

/**
 * Admission's caps from the configuration, and the file-descriptor budget: at the process's open-file
 * limit the kernel refuses accept() and libuv closes the connection itself, so the client learns
 * nothing and the node has no descriptor left for Redis, logs or the admin port. Admission refuses
 * sockets (readably: 4008 / HTTP 503) once the limit minus `limits.reservedFds` are in use, and any
 * one address at half of that (4007). Reads /proc/self/limits once (Linux); elsewhere no budget.
 */
/** The window `limits.abuseThreshold` counts abusive closes in, and the length of a first ban. */
const ABUSE_WINDOW_MS = 10_000;
const FIRST_BAN_MS = 1000;

function admissionLimits(config: FerryConfig): AdmissionLimits {
  const { limits, access } = config;
  const openFiles = openFileLimit();
  const maxSocketFds = openFiles === null ? Infinity : openFiles - limits.reservedFds;
  if (maxSocketFds < 2) {
    throw new ConfigError(
      `invalid config: limits.reservedFds (${limits.reservedFds}) leaves no file descriptors for sockets ` +
        `under the open-file limit ${openFiles}; raise \`ulimit -n\` or lower limits.reservedFds`,
    );
  }
  return {
    connectionsPerIp: limits.connectionsPerIp,
    maxConnections: limits.maxConnections,
    grpcConnectionsPerIp: access.connectionsPerIp,
    grpcMaxConnections: access.maxConnections,
    maxSocketFds,
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    // Their descriptors come out of the reserve: a quarter of it at most.
    maxLingeringRefusals: Math.min(MAX_LINGERING_REFUSALS, Math.floor(limits.reservedFds / 4)),
    penalty: {
      threshold: limits.abuseThreshold,
      windowMs: ABUSE_WINDOW_MS,
      firstBanMs: FIRST_BAN_MS,
      maxBanMs: limits.abuseMaxBanMs,
    },
  };
}

/** RLIMIT_NOFILE (soft) from /proc/self/limits; null when unknown or unlimited. */
function openFileLimit(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}
