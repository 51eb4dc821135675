/**
 * WatchPresence: one server stream per watcher, fed by Presence.watch() (cluster-wide when presence is
 * the Redis one). A watcher that cannot keep up (its stream buffer stays full past MAX_BUFFERED events)
 * is ended with RESOURCE_EXHAUSTED rather than allowed to grow the server's memory.
 */
import * as grpc from '@grpc/grpc-js';
import type { Presence } from '../bus/presence.js';
import { ReplyCode, RequestError } from '../errors.js';
import type { AccessService } from './access-service.js';
import { eventMessage, matches, type PresenceFilter } from './presence-view.js';
import { toServiceError } from './status-mapping.js';
import * as v from './validation.js';

/** Events a watcher may have waiting in its stream before it is cut. */
export const MAX_BUFFERED = 10_000;

/** The filter in a WatchPresenceRequest, validated. */
export function parseFilter(req: Record<string, unknown>, maxUserIdLength: number): PresenceFilter {
  const userIds = v.checkIdList('user_ids', req.userIds ?? [], maxUserIdLength, true, v.checkIdentifier);
  const nodeIds = v.checkIdList('node_ids', req.nodeIds ?? [], 64, true);
  const kinds: Record<string, PresenceFilter['kind']> = {
    PRESENCE_EVENT_KIND_UNSPECIFIED: 'any',
    PRESENCE_EVENT_KIND_ONLINE: 'online',
    PRESENCE_EVENT_KIND_OFFLINE: 'offline',
  };
  const kind = kinds[String(req.kind ?? 'PRESENCE_EVENT_KIND_UNSPECIFIED')];
  if (kind === undefined) v.bad('kind', 'unknown event kind');
  return { userIds: new Set(userIds), nodeIds: new Set(nodeIds), kind };
}

/** Runs one WatchPresence call until the client cancels or the server closes. Returns a stopper. */
export function runPresenceStream(
  call: grpc.ServerWritableStream<unknown, unknown>,
  filter: PresenceFilter,
  presence: Presence,
  service: AccessService,
): () => void {
  let buffered = 0;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unwatch();
    service.watchers--;
  };
  const unwatch = presence.watch((event) => {
    if (stopped || !matches(filter, event)) return;
    if (buffered >= MAX_BUFFERED) {
      stop();
      const err = new RequestError(
        ReplyCode.LIMIT_EXCEEDED,
        'presence watcher too slow; events were dropped',
      );
      call.emit('error', toServiceError(err));
      return;
    }
    if (!call.write(eventMessage(event, service.now()))) {
      buffered++;
      call.once('drain', () => (buffered = 0));
    }
  });
  service.watchers++;
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
  // Headers now, so a client knows the watch is in place before the first event.
  call.sendMetadata(new grpc.Metadata());
  return () => {
    if (stopped) return;
    stop();
    call.end();
  };
}
