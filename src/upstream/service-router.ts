/**
 * The one thing the session layer knows about business-service routing: hand a client's
 * ServiceRequest to something that routes it (docs/upstreams.md). The session imports this interface
 * only; gateway.ts wires the implementation (`Upstreams`), so sessions never depend on gRPC or
 * Redis code.
 */

/** The authenticated origin of a service message. */
export interface ServiceOrigin {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
}

/** A client's ServiceRequest, validated (type non-zero, msg id present, payload within limits). */
export interface ServiceRequestInput {
  type: number;
  payload: Uint8Array;
  msgId: string;
}

/** The answer a client gets in ServiceAck. */
export interface ServiceAccepted {
  /** Name of the service the route table chose. */
  service: string;
  /** True when this msg id was already accepted within the dedup window (not forwarded again). */
  duplicate: boolean;
}

/**
 * Routes service messages. `route` resolves once the service's upstream holds the message
 * (at-least-once from there on) and rejects with a RequestError the client can act on:
 * NOT_FOUND (no route for the type), BUSY (queue full: retry with backoff, nothing was lost),
 * UNAVAILABLE (no upstream took it after the configured retries). Never throws synchronously.
 */
export interface ServiceRouter {
  route(origin: ServiceOrigin, req: ServiceRequestInput): Promise<ServiceAccepted>;
}
