/**
 * Field rules for access-gateway requests. Every violation is a RequestError BAD_REQUEST (gRPC
 * INVALID_ARGUMENT) naming the field and the rule, so a caller can fix the request from the message.
 */
import { ReplyCode, RequestError } from '../errors.js';
import { identifierProblem } from '../protocol/identifier.js';

/** Most users, recipients or filters one request may name. */
export const MAX_BATCH = 1000;
/** Most labels on one login session, and their sizes. */
export const MAX_LABELS = 16;
const MAX_LABEL_CHARS = 256;

/** Throws BAD_REQUEST with `field: why`. */
export function bad(field: string, why: string): never {
  throw new RequestError(ReplyCode.BAD_REQUEST, `${field}: ${why}`);
}

function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * A user id or device id: the one identifier rule (protocol/identifier.ts), at most `maxBytes` UTF-8
 * bytes (`limits.maxUserIdLength`), exactly as the token check and the wire protocol apply it.
 */
export function checkIdentifier(field: string, value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || value.length === 0) bad(field, 'required');
  const problem = identifierProblem(value, maxBytes);
  if (problem !== null) bad(field, problem);
  return value;
}

/** Like checkIdentifier, but '' is allowed (meaning "not given"). */
export function checkOptionalIdentifier(field: string, value: unknown, maxBytes: number): string {
  if (value === undefined || value === '') return '';
  return checkIdentifier(field, value, maxBytes);
}

/** A non-empty id of printable characters, at most `max` long (session ids, node ids, label keys). */
export function checkId(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0) bad(field, 'required');
  if (value.length > max) bad(field, `longer than ${max} characters`);
  if (hasControlChars(value)) bad(field, 'contains control characters');
  return value;
}

/** A topic name (docs/protocol.md §5.9): non-empty, at most `max` UTF-8 bytes, no whitespace or control characters. */
export function checkTopic(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0) bad(field, 'required');
  if (Buffer.byteLength(value) > max) bad(field, `longer than ${max} bytes`);
  if (/[\s\p{Cc}]/u.test(value)) bad(field, 'contains whitespace or a control character');
  return value;
}

/** Like checkId, but '' is allowed (meaning "not given"). */
export function checkOptionalId(field: string, value: unknown, max: number): string {
  if (value === undefined || value === '') return '';
  return checkId(field, value, max);
}

/** 1..MAX_BATCH ids, each passing `check` (default checkId), deduplicated, order kept. */
export function checkIdList(
  field: string,
  values: unknown,
  max: number,
  allowEmpty = false,
  check: (field: string, value: unknown, max: number) => string = checkId,
): string[] {
  if (!Array.isArray(values)) bad(field, 'must be a list');
  if (values.length === 0 && !allowEmpty) bad(field, 'must name at least one');
  if (values.length > MAX_BATCH) bad(field, `at most ${MAX_BATCH} entries`);
  const out = new Set<string>();
  values.forEach((v, i) => out.add(check(`${field}[${i}]`, v, max)));
  return [...out];
}

/** QoS 0 or 1. */
export function checkQos(field: string, value: unknown): 0 | 1 {
  if (value === 0 || value === 1) return value;
  return bad(field, 'must be 0 or 1');
}

/** Payload bytes within the frame limit (what a Deliver frame can carry). */
export function checkPayload(field: string, value: unknown, maxBytes: number): Uint8Array {
  if (!(value instanceof Uint8Array)) bad(field, 'must be bytes');
  if (value.length > maxBytes) bad(field, `larger than ${maxBytes} bytes`);
  return value;
}

/** A ttl in ms: 0 = `max`; otherwise 1 s .. `max`. */
export function checkTtl(field: string, value: unknown, max: number): number {
  const n = typeof value === 'number' ? value : Number(value ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) bad(field, 'must be a non-negative integer (ms)');
  if (n === 0) return max;
  if (n < 1000) bad(field, 'at least 1000 ms');
  if (n > max) bad(field, `at most ${max} ms (access.sessionTokenTtlMs)`);
  return n;
}

/** Labels: at most MAX_LABELS, keys and values printable and short. */
export function checkLabels(field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') bad(field, 'must be a map of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_LABELS) bad(field, `at most ${MAX_LABELS} labels`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    checkId(`${field} key`, k, MAX_LABEL_CHARS);
    if (typeof v !== 'string' || v.length > MAX_LABEL_CHARS || hasControlChars(v))
      bad(
        `${field}[${JSON.stringify(k.slice(0, 40))}]`,
        `must be up to ${MAX_LABEL_CHARS} printable characters`,
      );
    out[k] = v;
  }
  return out;
}
