/**
 * Readers for the HTTP/3 streams that are not requests: the preamble of every peer-opened stream
 * (RFC 9114 §6.1, §6.2; draft-ietf-webtrans-http3 §4.1, §4.2), the peer's control stream
 * (RFC 9114 §6.2.1), its QPACK encoder and decoder streams (RFC 9204 §4.2), and streams of unknown
 * type, which are read and discarded (RFC 9114 §6.2, §9).
 */
import { FRAME_GOAWAY, FRAME_SETTINGS, H3_CLOSED_CRITICAL_STREAM } from './constants.js';
import { H3Error } from './errors.js';
import {
  H3FrameReader,
  MAX_STREAM_HEADER_BYTES,
  decodeSingleVarintPayload,
  parseBidiStreamHeader,
  parseUniStreamHeader,
  type StreamHeader,
} from './h3-frames.js';
import { QpackDecoderStreamReader, QpackEncoderStreamReader } from './qpack/instructions.js';
import { decodeSettings, type H3Settings } from './settings.js';
import type { StreamSink } from './stream.js';
import { varintSize } from './varint.js';

/** Every sink the HTTP/3 connection reads (the stream contract lives in stream.ts). */
export type H3Sink = StreamSink;

/** Receives a parsed preamble; `prefix` holds the bytes read so far (for request streams). */
export interface PreambleListener {
  onPreamble(streamId: number, header: StreamHeader, prefix: Uint8Array, fin: boolean): void;
  /** The stream ended or was reset before its preamble completed (RFC 9114 §6.2: tolerated). */
  onPreambleAbandoned(streamId: number): void;
}

/**
 * Reads a peer-opened stream's preamble exactly, byte-sized reads included, so no payload byte is
 * consumed before the stream's owner is known: a request stream gets the bytes read so far (its
 * first frame type), a WebTransport stream gets nothing extra and is read later by its session.
 */
export class PreambleReader implements H3Sink {
  readonly paused = false;
  readonly critical = false;
  private readonly buf = new Uint8Array(MAX_STREAM_HEADER_BYTES);
  private have = 0;

  constructor(
    private readonly streamId: number,
    private readonly uni: boolean,
    private readonly listener: PreambleListener,
  ) {}

  /** Exactly the bytes that complete the next varint of the preamble. */
  get readLimit(): number {
    const buf = this.buf;
    if (this.have === 0) return 1;
    const first = varintSize(buf[0]!);
    if (this.have < first) return first - this.have;
    if (this.have === first) return 1; // first byte of the session id varint
    return first + varintSize(buf[first]!) - this.have;
  }

  onBytes(bytes: Uint8Array, fin: boolean): void {
    this.buf.set(bytes, this.have);
    this.have += bytes.length;
    const view = this.buf.subarray(0, this.have);
    const header = this.uni ? parseUniStreamHeader(view) : parseBidiStreamHeader(view);
    if (header !== undefined) {
      this.listener.onPreamble(this.streamId, header, view.slice(), fin);
    } else if (fin) {
      this.listener.onPreambleAbandoned(this.streamId);
    }
  }

  onReset(): void {
    this.listener.onPreambleAbandoned(this.streamId);
  }
}

/** What the peer's control stream reports. */
export interface ControlStreamListener {
  onPeerSettings(settings: H3Settings): void;
  onGoaway(id: number): void;
}

/**
 * The peer's control stream (RFC 9114 §6.2.1): SETTINGS first (H3_MISSING_SETTINGS otherwise, checked
 * by the frame reader), GOAWAY, and unknown/GREASE frames, which are skipped. MAX_PUSH_ID and
 * CANCEL_PUSH are irrelevant without server push and ignored. Closing it is H3_CLOSED_CRITICAL_STREAM.
 */
export class ControlStreamSink implements H3Sink {
  readonly paused = false;
  readonly critical = true;
  readonly readLimit = 0;
  private readonly reader: H3FrameReader;

  constructor(private readonly listener: ControlStreamListener) {
    this.reader = new H3FrameReader(
      {
        onFrame: (type, payload) => {
          if (type === FRAME_SETTINGS) this.listener.onPeerSettings(decodeSettings(payload));
          else if (type === FRAME_GOAWAY) this.listener.onGoaway(decodeSingleVarintPayload(payload));
        },
        onData: () => {}, // unreachable: DATA on the control stream is rejected by the reader
      },
      { kind: 'control', maxFramePayload: 16384 },
    );
  }

  onBytes(bytes: Uint8Array, fin: boolean): void {
    if (bytes.length > 0) this.reader.push(bytes);
    if (fin) throw new H3Error(H3_CLOSED_CRITICAL_STREAM, 'peer closed its control stream');
  }

  onReset(): void {
    throw new H3Error(H3_CLOSED_CRITICAL_STREAM, 'peer reset its control stream');
  }
}

/** The peer's QPACK encoder or decoder stream (RFC 9204 §4.2); both are critical. */
export class QpackStreamSink implements H3Sink {
  readonly paused = false;
  readonly critical = true;
  readonly readLimit = 0;
  private readonly reader: QpackEncoderStreamReader | QpackDecoderStreamReader;

  constructor(encoder: boolean) {
    // We advertise dynamic table capacity 0 (settings.ts), so only "Set Capacity 0" may arrive.
    this.reader = encoder ? new QpackEncoderStreamReader(0) : new QpackDecoderStreamReader();
  }

  onBytes(bytes: Uint8Array, fin: boolean): void {
    if (bytes.length > 0) this.reader.push(bytes);
    if (fin) this.reader.finish(); // throws H3_CLOSED_CRITICAL_STREAM
  }

  onReset(): void {
    throw new H3Error(H3_CLOSED_CRITICAL_STREAM, 'peer reset a QPACK stream');
  }
}

/** Reads and drops a stream of unknown type (RFC 9114 §6.2: discard without further processing). */
export class DiscardSink implements H3Sink {
  readonly paused = false;
  readonly critical = false;
  readonly readLimit = 0;

  constructor(private readonly onDone: () => void) {}

  onBytes(_bytes: Uint8Array, fin: boolean): void {
    if (fin) this.onDone();
  }

  onReset(): void {
    this.onDone();
  }
}
