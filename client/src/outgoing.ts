/**
 * The glue between `send`/`publish` and the outbox: payload checks, and the WebTransport datagram
 * fast path for ephemeral QoS-0 frames (docs/protocol.md §2.3), which are never acknowledged.
 */
import { FerryClientError } from './errors.js';
import { Outbox, type OutgoingBody, type SendOptions, type SendResult } from './outbox.js';
import type { ClientTransport } from './transports/transport.js';

/**
 * Sends `payload` to `target` through `outbox`; `transport` is the authenticated transport, or null
 * while there is none.
 */
export function sendOutgoing(
  outbox: Outbox,
  transport: ClientTransport | null,
  target: { kind: 'send' | 'publish'; target: string },
  payload: Uint8Array | string,
  opts: SendOptions,
): Promise<SendResult> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  if (!(bytes instanceof Uint8Array))
    return Promise.reject(
      new FerryClientError('FERRY_CLIENT_BAD_ARGUMENT', 'payload must be a Uint8Array or a string'),
    );
  const body: OutgoingBody = { ...target, payload: bytes };
  const clientMsgId = opts.clientMsgId ?? '';
  if ((opts.qos ?? 1) === 0 && opts.ephemeral === true && transport?.datagrams === true) {
    const frame = Outbox.frameOf(body, { qos: 0, ephemeral: true, clientMsgId }, 0);
    if (transport.sendDatagram(frame))
      return Promise.resolve({
        clientMsgId,
        serverId: '',
        seq: 0,
        timestampMs: 0,
        duplicate: false,
        latencyMs: 0,
        target: body.target,
        kind: body.kind,
      });
  }
  return outbox.submit(body, opts);
}
