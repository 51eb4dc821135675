/**
 * What the console's buttons do, through the AccessService the gRPC access API runs (the same
 * validation, the same router calls, the same per-method call counts in Stats), so a console kick is
 * a gRPC Kick in every respect but the transport. Callers are named CONSOLE_CALLER.
 */
import type { AccessService } from '../access/access-service.js';
import type { MappedStatus } from '../access/status-mapping.js';

/** The caller name console actions carry (the device and `from_service` of its pushes). */
export const CONSOLE_CALLER = 'admin-console';

/** An action's HTTP answer. */
export interface ActionResult {
  status: number;
  body: Record<string, unknown>;
}

/**
 * gRPC status -> HTTP status of a console action that failed. The codes are gRPC's own (fixed by its
 * spec, doc/statuscodes.md), written out so the console does not load grpc-js on a node without gRPC.
 */
const HTTP_OF_STATUS: Partial<Record<number, number>> = {
  3: 400, // INVALID_ARGUMENT
  5: 404, // NOT_FOUND
  7: 403, // PERMISSION_DENIED
  16: 403, // UNAUTHENTICATED
  8: 429, // RESOURCE_EXHAUSTED
  9: 409, // FAILED_PRECONDITION
  14: 503, // UNAVAILABLE
};

/**
 * The access API's service on this node and its one error table (access/status-mapping.ts), both
 * handed in by the node, which loads them only when it serves gRPC.
 */
export interface ConsoleAccess {
  service: AccessService;
  mapError: (err: unknown) => MappedStatus;
}

type Body = Record<string, unknown>;

/** Console actions over one node's AccessService (null on a `--role message` node: no actions). */
export class ConsoleActions {
  constructor(private readonly access: ConsoleAccess | null) {}

  /** Devices online (node, transport, since) and login sessions of one user: ListSessions. */
  findUser(userId: string): Promise<ActionResult> {
    return this.call('ListSessions', (s) => s.listSessions({ name: CONSOLE_CALLER }, { userId }));
  }

  /** Disconnects one device, or every device of the user, with 4506 KICKED: Kick. */
  kick(body: Body): Promise<ActionResult> {
    const req: Body = { userId: body.userId };
    if (typeof body.deviceId === 'string' && body.deviceId !== '') req.deviceId = body.deviceId;
    return this.call('Kick', (s) => s.kick({ name: CONSOLE_CALLER }, req));
  }

  /** Sends `text` (UTF-8) to one user from "system", QoS 1 unless `qos` is 0: Push. */
  push(body: Body): Promise<ActionResult> {
    return this.call('Push', (s) =>
      s.push(
        { name: CONSOLE_CALLER },
        {
          recipients: [{ userId: body.userId }],
          payload: textPayload(body.text),
          qos: body.qos === 0 ? 0 : 1,
        },
      ),
    );
  }

  /** Publishes `text` to a topic: Broadcast. */
  broadcast(body: Body): Promise<ActionResult> {
    return this.call('Broadcast', (s) =>
      s.broadcast(
        { name: CONSOLE_CALLER },
        { target: 'topic', topic: body.topic, payload: textPayload(body.text), qos: body.qos === 1 ? 1 : 0 },
      ),
    );
  }

  private async call(method: string, run: (s: AccessService) => Promise<Body>): Promise<ActionResult> {
    if (this.access === null)
      return {
        status: 503,
        body: { error: 'this node runs no access service (access.role message): use a node that does' },
      };
    const { service, mapError } = this.access;
    service.count(method);
    try {
      return { status: 200, body: await run(service) };
    } catch (err) {
      const m = mapError(err);
      return { status: HTTP_OF_STATUS[m.code] ?? 500, body: { error: m.details, code: m.reason } };
    }
  }
}

/** A text field as the bytes a Push or Broadcast payload is (a non-string is left for validation). */
function textPayload(text: unknown): unknown {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}
