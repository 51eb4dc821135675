/**
 * The one shape every client transport has (WebTransport, WebSocket, TCP): frames out, frames in,
 * a close with a code. The client above it knows nothing of streams, messages or sockets.
 */
import type { Frame, FrameInit } from '../wire.js';

export type TransportKind = 'wt' | 'ws' | 'tcp';

/** How a transport ended. `code` is the WebSocket close code or WebTransport error code, else 0. */
export interface TransportClose {
  code: number;
  reason: string;
  /** The client dropped it because the server's bytes were not valid frames. */
  protocolError?: boolean;
}

/** Callbacks a transport drives; fixed before it opens, since a Disconnect may arrive at once. */
export interface TransportEvents {
  onFrame(frame: Frame): void;
  /** Exactly once, whoever closed it. */
  onClose(info: TransportClose): void;
}

export interface TransportOpenOptions {
  url: string;
  /** SHA-256 certificate hashes (base64 or hex) for WebTransport in development; [] = CA-issued. */
  certHashes: readonly string[];
  /** Give up (TransportUnavailableError) if the transport is not ready within this time. */
  timeoutMs: number;
  events: TransportEvents;
}

/** An open connection. Methods never throw; after close they do nothing. */
export interface ClientTransport {
  readonly kind: TransportKind;
  /** True on WebTransport: ephemeral frames may travel as datagrams (docs/protocol.md §2.3). */
  readonly datagrams: boolean;
  send(frame: FrameInit): void;
  /** Sends an ephemeral frame as one datagram; false if it cannot (too large, no datagrams). */
  sendDatagram(frame: FrameInit): boolean;
  /** Updates the frame size accepted from the server (AuthResult.max_frame_bytes). */
  setMaxFrameBytes(bytes: number): void;
  /** Orderly close with a code (4000-4999) and reason; `onClose` follows. Idempotent. */
  close(code: number, reason: string): void;
}

/** Opens one transport; rejects with TransportUnavailableError when it cannot be used. */
export type TransportFactory = (opts: TransportOpenOptions) => Promise<ClientTransport>;

/** Races `promise` against `timeoutMs`; on timeout calls `onTimeout` and rejects with `error()`. */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => void,
  error: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(error());
    }, timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
