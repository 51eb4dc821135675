/**
 * The shared test vectors of docs/test-vectors/ (JSON, for client authors in any language), loaded
 * for Ferry's own tests so that they cannot drift from what the server does. Frames in the JSON use
 * the .proto's snake_case names with bytes as hex; these helpers convert to and from the codec's
 * camelCase frame objects.
 */
import { readFileSync } from 'node:fs';
import type { Frame, FrameInit } from '../../src/protocol/codec.js';

/** A frame as the vectors write it: `{ id?, <body_name>: { field: value } }`. */
export type JsonFrame = Record<string, unknown>;

export interface FrameVector {
  name: string;
  description: string;
  direction?: string;
  hex: string;
  frame: JsonFrame;
}

export interface FramesFile {
  encode: FrameVector[];
  decode_only: FrameVector[];
}

export interface FramingVector {
  name: string;
  reads: string[];
  frames: string[];
  error?: number;
  decode_error?: number;
}

export interface FramingFile {
  max_frame_bytes: number;
  vectors: FramingVector[];
}

export interface CodeVector {
  code: number;
  name: string;
  symbolic: string;
  hex: string;
  frame: JsonFrame;
  retryable?: boolean;
  reconnect?: boolean;
}

export interface CodesFile {
  reply_errors: CodeVector[];
  disconnects: CodeVector[];
  websocket_close_codes: { code: number; reconnect: boolean }[];
}

export type SendItem =
  { hex: string } | { tcp_bytes: string } | { ws_zero_bytes: number } | { ws_text: string };

export type ExpectItem = { hex: string } | { id: number; body: string; fields: Record<string, unknown> };

export interface ReactionVector {
  name: string;
  description?: string;
  transports?: ('tcp' | 'ws')[];
  authenticate: boolean;
  send: SendItem[];
  expect: ExpectItem[];
  close: { code: number; reason?: string; disconnect_frame?: boolean } | null;
}

export interface ReactionsFile {
  node_config: Record<string, unknown>;
  vectors: ReactionVector[];
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../docs/test-vectors/${name}`, import.meta.url), 'utf8')) as T;
}

export const FRAMES = load<FramesFile>('frames.json');
export const FRAMING = load<FramingFile>('framing.json');
export const CODES = load<CodesFile>('codes.json');
export const REACTIONS = load<ReactionsFile>('reactions.json');

/** Bytes of a vector's hex (spaces ignored). */
export function vectorBytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/** Fields of type `bytes` in frame.proto: hex strings in the vectors. */
const BYTES_FIELDS = new Set(['payload']);

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A vector's frame as the codec's FrameInit. */
export function frameInit(json: JsonFrame): FrameInit {
  return convertIn(json) as FrameInit;
}

function convertIn(value: unknown, key = ''): unknown {
  if (BYTES_FIELDS.has(key) && typeof value === 'string') return vectorBytes(value);
  if (Array.isArray(value)) return value.map((v) => convertIn(v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[camel(k)] = convertIn(v, k);
    return out;
  }
  return value;
}

/**
 * A decoded frame in the vectors' form: snake_case, bytes as hex, defaults (0, "", false, empty)
 * left out, as is id 0. Decoded messages keep defaults on their prototypes, hence for..in.
 */
export function jsonFrame(frame: Frame): JsonFrame {
  const out: JsonFrame = {};
  if (frame.id !== 0) out.id = frame.id;
  const body = frame.body!;
  out[snake(body)] = convertOut(frame[body]);
  return out;
}

function convertOut(msg: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in msg as object) {
    const v = (msg as Record<string, unknown>)[key];
    if (v === null || v === undefined || v === 0 || v === '' || v === false || typeof v === 'function')
      continue;
    if (v instanceof Uint8Array) {
      if (v.length > 0) out[snake(key)] = Buffer.from(v).toString('hex');
    } else if (Array.isArray(v)) {
      if (v.length > 0) out[snake(key)] = v.map((x) => (typeof x === 'object' ? convertOut(x) : x));
    } else if (typeof v === 'object') out[snake(key)] = convertOut(v);
    else out[snake(key)] = v;
  }
  return out;
}

/** The body name of a JSON frame (its one key besides `id`). */
export function jsonBody(json: JsonFrame): string {
  return Object.keys(json).find((k) => k !== 'id')!;
}
