/**
 * HTTP/3 SETTINGS payloads (RFC 9114 §7.2.4) and the table Ferry advertises for both WebTransport
 * generations (draft-02 that Chromium 156 requires, and draft-07+), see docs/webtransport.md.
 */
import {
  RESERVED_HTTP2_SETTINGS,
  SETTINGS_ENABLE_CONNECT_PROTOCOL,
  SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02,
  SETTINGS_H3_DATAGRAM,
  SETTINGS_H3_DATAGRAM_DRAFT04,
  SETTINGS_MAX_FIELD_SECTION_SIZE,
  SETTINGS_QPACK_BLOCKED_STREAMS,
  SETTINGS_QPACK_MAX_TABLE_CAPACITY,
  SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07,
  SETTINGS_WT_ENABLED,
  SETTINGS_WT_MAX_SESSIONS,
  greaseValue,
} from './constants.js';
import { frameError, settingsError } from './errors.js';
import { VARINT_INCOMPLETE, readVarint, varintLength, varintSize, writeVarint } from './varint.js';

/**
 * Decoded SETTINGS: identifier -> value, in wire order. Unknown identifiers (including GREASE) are
 * kept so callers can log them; values above 2^53-1 are inexact (see varint.ts) and only matter for
 * unknown identifiers.
 */
export type H3Settings = Map<number, number>;

/** Settings whose only valid values are 0 and 1 (RFC 9220 §3, RFC 9297 §2.1.1, drafts). */
const BOOLEAN_SETTINGS: ReadonlySet<number> = new Set([
  SETTINGS_ENABLE_CONNECT_PROTOCOL,
  SETTINGS_H3_DATAGRAM,
  SETTINGS_WT_ENABLED,
]);

/**
 * Decodes a SETTINGS frame payload (RFC 9114 §7.2.4). Throws H3Error:
 * H3_FRAME_ERROR when the payload ends inside an identifier/value pair (§7.1);
 * H3_SETTINGS_ERROR for a duplicate identifier (§7.2.4), an HTTP/2-only identifier 0x02-0x05
 * (§7.2.4.1), or a boolean setting with a value other than 0/1 (RFC 9220 §3, RFC 9297 §2.1.1).
 * Unknown identifiers are kept, never rejected (§7.2.4.1: they MUST be ignored).
 */
export function decodeSettings(payload: Uint8Array, maxEntries = 256): H3Settings {
  const settings: H3Settings = new Map();
  let off = 0;
  while (off < payload.length) {
    const id = readVarint(payload, off);
    if (id === VARINT_INCOMPLETE) throw truncated();
    off += varintSize(payload[off]!);
    const value = readVarint(payload, off);
    if (value === VARINT_INCOMPLETE) throw truncated();
    off += varintSize(payload[off]!);
    if (RESERVED_HTTP2_SETTINGS.includes(id)) {
      throw settingsError(`HTTP/2 setting 0x${id.toString(16)} is forbidden in HTTP/3`);
    }
    if (settings.has(id)) throw settingsError(`duplicate setting 0x${id.toString(16)}`);
    if (BOOLEAN_SETTINGS.has(id) && value > 1) {
      throw settingsError(`setting 0x${id.toString(16)} must be 0 or 1, got ${value}`);
    }
    // A bound on what we keep; a legitimate peer sends about ten (Chromium: 7 + GREASE).
    if (settings.size >= maxEntries) throw settingsError(`more than ${maxEntries} settings`);
    settings.set(id, value);
  }
  return settings;
}

function truncated(): Error {
  // RFC 9114 §7.1: a payload that ends before its identified fields is H3_FRAME_ERROR.
  return frameError('SETTINGS payload ends inside a setting');
}

/**
 * Encodes a SETTINGS frame payload (identifier/value varint pairs, in iteration order). Throws
 * H3Error (H3_INTERNAL_ERROR) for values that are not varints.
 */
export function encodeSettings(settings: Iterable<readonly [number, number]>): Uint8Array {
  const entries = [...settings];
  let size = 0;
  for (const [id, value] of entries) size += varintLength(id) + varintLength(value);
  const out = new Uint8Array(size);
  let off = 0;
  for (const [id, value] of entries) {
    off = writeVarint(out, off, id);
    off = writeVarint(out, off, value);
  }
  return out;
}

/** Inputs of {@link serverSettings}. */
export interface ServerSettingsOptions {
  /** SETTINGS_MAX_FIELD_SECTION_SIZE: the limits' `maxHeaderBytes`. */
  maxFieldSectionSize: number;
  /** Concurrent WebTransport sessions per connection advertised to draft-07/08 clients (>= 1). */
  maxSessions: number;
  /**
   * Adds one reserved setting `0x1f*N+0x21` (RFC 9114 §7.2.4.1 encourages it so peers keep
   * ignoring unknown settings); pass N, or omit for none. Tests pass a fixed N.
   */
  greaseN?: number;
}

/**
 * The SETTINGS Ferry's server sends, both WebTransport generations in one table (webtransport.md):
 * QPACK dynamic table capacity 0 and 0 blocked streams (static-only QPACK, RFC 9204 §5),
 * MAX_FIELD_SECTION_SIZE, ENABLE_CONNECT_PROTOCOL=1 (RFC 9220), H3_DATAGRAM=1 (RFC 9297) and its
 * draft-04 twin 0xffd277=1, ENABLE_WEBTRANSPORT=1 (draft-02: without it and a datagram setting
 * Chromium 156 sends no CONNECT), WEBTRANSPORT_MAX_SESSIONS=maxSessions (draft-07/08, no flow
 * control), WT_MAX_SESSIONS=1 (draft-09..14: a value > 1 would negotiate session flow control) and
 * WT_ENABLED=1 (draft-15+).
 */
export function serverSettings(opts: ServerSettingsOptions): H3Settings {
  const maxSessions = Math.max(1, Math.trunc(opts.maxSessions));
  const table: H3Settings = new Map([
    [SETTINGS_QPACK_MAX_TABLE_CAPACITY, 0],
    [SETTINGS_QPACK_BLOCKED_STREAMS, 0],
    [SETTINGS_MAX_FIELD_SECTION_SIZE, Math.trunc(opts.maxFieldSectionSize)],
    [SETTINGS_ENABLE_CONNECT_PROTOCOL, 1],
    [SETTINGS_H3_DATAGRAM, 1],
    [SETTINGS_H3_DATAGRAM_DRAFT04, 1],
    [SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02, 1],
    [SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07, maxSessions],
    // draft-09+ §5.1: WT_MAX_SESSIONS > 1 on both sides switches on WebTransport flow control
    // (WT_MAX_DATA / WT_MAX_STREAMS capsules), which Ferry does not implement: advertise 1.
    [SETTINGS_WT_MAX_SESSIONS, 1],
    [SETTINGS_WT_ENABLED, 1],
  ]);
  if (opts.greaseN !== undefined) table.set(greaseValue(opts.greaseN), 0);
  return table;
}

/** The fixed part of {@link serverSettings} for docs and tests (no field-section size, no GREASE). */
export const SERVER_SETTINGS: ReadonlyMap<number, number> = new Map(
  [...serverSettings({ maxFieldSectionSize: 0, maxSessions: 1 })].filter(
    ([id]) => id !== SETTINGS_MAX_FIELD_SECTION_SIZE,
  ),
);

/** What a peer's SETTINGS say about WebTransport; see {@link peerWebTransportSupport}. */
export interface PeerWebTransportSupport {
  /** The peer can run WebTransport sessions in at least one generation (and Extended CONNECT, for servers). */
  webTransport: boolean;
  /** draft-02 generation: ENABLE_WEBTRANSPORT=1 (Chromium up to at least 156). */
  draft02: boolean;
  /** draft-07+ generation: a max-sessions setting > 0 or WT_ENABLED=1. */
  draft07: boolean;
  /** HTTP Datagrams: H3_DATAGRAM=1 (RFC 9297) or the draft-04 0xffd277=1. */
  datagrams: boolean;
  /** RFC 9220 Extended CONNECT (a client need not send it; a server must). */
  connectProtocol: boolean;
  /** Largest field section the peer accepts (RFC 9114 §7.2.4.1: unlimited when absent). */
  maxFieldSectionSize: number;
  /** QPACK dynamic table capacity the peer allows us to use (we never use it). */
  qpackMaxTableCapacity: number;
}

/**
 * Reads WebTransport support from a peer's decoded SETTINGS. `peerIsServer` selects the rule for
 * Extended CONNECT: a server must advertise ENABLE_CONNECT_PROTOCOL=1 (RFC 9220 §3), a client need
 * not. Datagrams are required for WebTransport by every draft, so `webTransport` implies `datagrams`.
 */
export function peerWebTransportSupport(settings: H3Settings, peerIsServer = false): PeerWebTransportSupport {
  const get = (id: number): number => settings.get(id) ?? 0;
  const datagrams = get(SETTINGS_H3_DATAGRAM) === 1 || get(SETTINGS_H3_DATAGRAM_DRAFT04) === 1;
  const draft02 = get(SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02) === 1;
  const draft07 =
    get(SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07) > 0 ||
    get(SETTINGS_WT_MAX_SESSIONS) > 0 ||
    get(SETTINGS_WT_ENABLED) === 1;
  const connectProtocol = get(SETTINGS_ENABLE_CONNECT_PROTOCOL) === 1;
  return {
    webTransport: datagrams && (draft02 || draft07) && (connectProtocol || !peerIsServer),
    draft02,
    draft07,
    datagrams,
    connectProtocol,
    maxFieldSectionSize: settings.get(SETTINGS_MAX_FIELD_SECTION_SIZE) ?? Number.POSITIVE_INFINITY,
    qpackMaxTableCapacity: get(SETTINGS_QPACK_MAX_TABLE_CAPACITY),
  };
}
