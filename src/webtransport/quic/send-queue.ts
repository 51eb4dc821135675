/**
 * Per-stream send queue. QUIC only takes as many stream bytes as stream and connection flow control
 * (RFC 9000 §4.1) and, in quiche, the congestion window allow, so `streamSend` may take part of a
 * buffer or nothing. Whatever it does not take waits here, without copying, until the next packets
 * bring credit (ACKs, MAX_STREAM_DATA, MAX_DATA) and the connection drains its blocked streams.
 */
import type { QuicEngineConnection } from './engine.js';

const EMPTY = new Uint8Array(0);

/**
 * The unsent tail of one stream: a list of chunk views plus a pending FIN. Callers must not mutate
 * a buffer after queueing it (the queue holds views, not copies, to avoid per-write allocation).
 */
export class SendQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes queued and not yet taken by QUIC. */
  bytes = 0;
  /** FIN requested after the queued bytes. */
  fin = false;

  get isEmpty(): boolean {
    return this.bytes === 0 && !this.fin;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.bytes += data.length;
  }

  /** Drops everything (after a reset or when the connection goes away). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
    this.fin = false;
  }

  /**
   * Hands as much as possible to `engine`. Returns true when the queue is empty afterwards (FIN
   * included). Throws the engine's QuicStreamError (peer STOP_SENDING, stream gone).
   */
  drainInto(engine: QuicEngineConnection, streamId: number): boolean {
    const chunks = this.chunks;
    while (this.head < chunks.length) {
      const chunk = chunks[this.head] as Uint8Array;
      const last = this.head === chunks.length - 1;
      const written = engine.streamSend(streamId, chunk, last && this.fin);
      if (written < 0) return false;
      this.bytes -= written;
      if (written < chunk.length) {
        chunks[this.head] = chunk.subarray(written);
        return false;
      }
      chunks[this.head] = EMPTY; // release the caller's buffer early
      this.head++;
      if (last) {
        this.fin = false; // sent together with the last chunk
        this.chunks = [];
        this.head = 0;
        return true;
      }
    }
    if (this.fin) {
      if (engine.streamSend(streamId, EMPTY, true) < 0) return false;
      this.fin = false;
    }
    if (this.head > 0) {
      this.chunks = [];
      this.head = 0;
    }
    return true;
  }
}
