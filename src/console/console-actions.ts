/**
 * What the console's buttons do, through the AccessService the gRPC access API runs (the same
 * validation, the same router calls, the same per-method call counts in Stats), so a console kick is
 * a gRPC Kick in every respect but the transport. Callers are named CONSOLE_CALLER.
 */
import { status as Status } from '@grpc/grpc-js';
import type { AccessService } from '../access/access-service.js';
import { mapError } from '../access/status-mapping.js';

/** The caller name console actions carry (the device and `from_service` of its pushes). */
export const CONSOLE_CALLER = 'admin-console';

/** An action's HTTP answer. */
export interface ActionResult {
  status: number;
  body: Record<string, unknown>;
}

/** gRPC status -> HTTP status of a console action that failed. */
const HTTP_OF_STATUS: Partial<Record<number, number>> = {
  [Status.INVALID_ARGUMENT]: 400,
  [Status.NOT_FOUND]: 404,
  [Status.PERMISSION_DENIED]: 403,
  [Status.UNAUTHENTICATED]: 403,
  [Status.RESOURCE_EXHAUSTED]: 429,
  [Status.FAILED_PRECONDITION]: 409,
  [Status.UNAVAILABLE]: 503,
};

type Body = Record<string, unknown>;

/** Console actions over one node's AccessService (null on a `--role message` node: no actions). */
export class ConsoleActions {
  constructor(private readonly access: AccessService | null) {}

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
    const s = this.access;
    if (s === null)
      return {
        status: 503,
        body: { error: 'this node runs no access service (access.role message): use a node that does' },
      };
    s.count(method);
    try {
      return { status: 200, body: await run(s) };
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
