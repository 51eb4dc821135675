/**
 * Turns bytes from the server into frames without ever throwing: garbage, truncated or oversized
 * frames are reported once through `onProtocolError` (the client then drops the connection and
 * reconnects), and everything after that is ignored. Fuzzed in test/unit/client/frame-reader.test.ts.
 */
import { DISCONNECT_BAD_FRAME, DISCONNECT_UNKNOWN_FRAME_TYPE } from './errors.js';
import { decodeFrame, DEFAULT_MAX_FRAME_BYTES, StreamFrameReader, type Frame } from './wire.js';

/**
 * Hard ceiling on one frame from the server, whatever `AuthResult.max_frame_bytes` says. It bounds what
 * a declared length can make the stream reader allocate before the body arrives.
 */
export const CLIENT_FRAME_CEILING = 16 * 1024 * 1024;

/** A frame the client could not read: `code` is the disconnect code it would earn (4500/4501). */
export interface FrameReadError {
  code: number;
  message: string;
}

export interface FrameSink {
  onFrame(frame: Frame): void;
  /** At most once per reader. */
  onProtocolError(err: FrameReadError): void;
}

/**
 * One connection's inbound frames: `stream` mode for TCP and the WebTransport stream (u32-BE length +
 * frame, split anywhere), `message` mode for WebSocket messages and datagrams (one frame per push).
 */
export class ClientFrameReader {
  private readonly stream: StreamFrameReader | null;
  private failed = false;
  private limit = DEFAULT_MAX_FRAME_BYTES;

  constructor(
    mode: 'stream' | 'message',
    private readonly sink: FrameSink,
  ) {
    this.stream = mode === 'stream' ? new StreamFrameReader(CLIENT_FRAME_CEILING) : null;
  }

  /**
   * The largest frame accepted from now on: 64 KiB until AuthResult tells the real limit
   * (docs/protocol.md §2.4). Capped at {@link CLIENT_FRAME_CEILING}.
   */
  setMaxFrameBytes(bytes: number): void {
    if (bytes > 0) this.limit = Math.min(bytes, CLIENT_FRAME_CEILING);
  }

  /** True once a protocol error was reported; later pushes are ignored. */
  get broken(): boolean {
    return this.failed;
  }

  /** Feeds bytes. Never throws; exceptions from `onFrame` listeners are the sink's business. */
  push(bytes: Uint8Array): void {
    if (this.failed) return;
    if (this.stream === null) {
      this.decodeOne(bytes);
      return;
    }
    try {
      this.stream.push(bytes, (body) => this.decodeOne(body));
    } catch (err) {
      this.fail(err);
    }
  }

  private decodeOne(body: Uint8Array): void {
    if (this.failed) return;
    let frame: Frame;
    try {
      frame = decodeFrame(body, this.limit);
    } catch (err) {
      // docs/protocol.md §3.2: ignore a body this version does not know (a newer server), don't fail.
      if (disconnectCodeOf(err) === DISCONNECT_UNKNOWN_FRAME_TYPE) return;
      this.fail(err);
      return;
    }
    this.sink.onFrame(frame);
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const code = disconnectCodeOf(err) || DISCONNECT_BAD_FRAME;
    this.sink.onProtocolError({ code, message: err instanceof Error ? err.message : String(err) });
  }
}

/** The close code a codec ProtocolError carries (`disconnectCode`), or 0 for anything else. */
function disconnectCodeOf(err: unknown): number {
  if (typeof err !== 'object' || err === null || !('disconnectCode' in err)) return 0;
  const code = (err as { disconnectCode: unknown }).disconnectCode;
  return typeof code === 'number' ? code : 0;
}
