"""A Ferry session over TCP or WebSocket, following docs/protocol.md §7.1 step by step.

One read loop per connection handles every frame, AuthResult included: replayed Delivers may arrive
in the same read as the AuthResult (§5). QoS-1 user messages are handed to `on_deliver` in order,
repeats (seq not above the last processed) are dropped, and one cumulative Ack per read confirms
what was processed. QoS-1 sends keep their client_msg_id until a SendAck, through retryable errors
and reconnects. Reconnects follow the server's advice (code range, reconnect_delay_ms,
reconnect_url) with jitter, and resume with last_seq and each topic's last offset.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from .proto import ProtocolError, body_of, decode_frame, encode_frame
from .transport import Closed, open_transport

# §6.3: WebSocket-layer close codes that mean "a broken client or peer": do not reconnect.
WS_NO_RECONNECT = {1002, 1007, 1008, 1009}


class RequestFailed(Exception):
    """A request was refused with an Error frame that is not retryable (§6.1)."""

    def __init__(self, error: dict):
        super().__init__(f"{error.get('code', 0)} {error.get('message', '')}")
        self.code = error.get("code", 0)
        self.error = error


class Stopped(Exception):
    """The client stopped for good: a 4500-4999 disconnect, or `close()`."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"stopped: {code} {reason}")
        self.code, self.reason = code, reason


class _ConnectionLost(Exception):
    pass


@dataclass
class Delivery:
    """One Deliver, as the application sees it."""

    seq: int
    payload: bytes
    from_user: str
    from_device: str
    topic: str
    qos: int
    client_msg_id: str
    from_service: str
    timestamp_ms: int


@dataclass
class Advice:
    reconnect: bool
    delay_s: float
    url: str | None


def backoff_s(attempt: int) -> float:
    """0.5 s doubling to 30 s (§6)."""
    return min(30.0, 0.5 * (2 ** max(0, attempt)))


def reconnect_advice(code: int, disconnect: dict | None, attempt: int, jitter: float | None = None) -> Advice:
    """What to do after a connection ended (§6, §6.3). `code` is the Disconnect code if one came,
    else the WebSocket close code, else 0 (a TCP connection that ended without a Disconnect: a
    network error). `jitter` in [0, 1) is random unless given."""
    j = random.random() if jitter is None else jitter
    d = disconnect or {}
    if 4500 <= code <= 4999 or code in WS_NO_RECONNECT:
        return Advice(False, 0.0, None)
    delay = d.get("reconnect_delay_ms", 0) / 1000 if d.get("reconnect_delay_ms") else backoff_s(attempt)
    # Jitter spreads a node's clients out (§5.8): up to half the delay again, at least 0-100 ms.
    return Advice(True, delay + max(delay / 2, 0.1) * j, d.get("reconnect_url") or None)


@dataclass
class State:
    """What a client persists across connections (and, in a real app, across restarts)."""

    device_id: str
    last_seq: int = 0  # the highest QoS-1 user seq processed
    topics: dict[str, int] = field(default_factory=dict)  # topic -> highest offset received


class Client:
    def __init__(
        self,
        url: str,
        token: Callable[[], str],
        state: State,
        on_deliver: Callable[[Delivery], Awaitable[None] | None] | None = None,
        client_name: str = "ferry-python/1.0",
        on_event: Callable[[str, dict], None] | None = None,
    ):
        self.url = url
        self.token = token
        self.state = state
        self.on_deliver = on_deliver
        self.client_name = client_name
        self.on_event = on_event or (lambda kind, info: None)
        self.answer_pings = True  # tests switch it off to see the idle timeout and the reconnect
        self.pings_answered = 0
        self.ping_event = asyncio.Event()  # set at each answered Ping
        self.auth: dict = {}
        self.connections = 0
        self._transport = None
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future] = {}
        self._connected = asyncio.Event()
        self._stopped: Stopped | None = None
        self._supervisor: asyncio.Task | None = None
        self._first: asyncio.Future | None = None
        self._last_rx = 0.0

    # ---- lifecycle ----

    async def start(self) -> dict:
        """Connects (retrying per the server's advice) and keeps the client connected until a
        4500-4999 disconnect or close(). Resolves with the first AuthResult."""
        self._first = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise())
        return await self._first

    async def close(self) -> None:
        """Says goodbye (Disconnect 4000, §5.8) and stops reconnecting."""
        self._stopped = Stopped(4000, "closed by the client")
        t = self._transport
        if t is not None:
            try:
                await t.send(encode_frame({"disconnect": {"code": 4000}}))
            except (Closed, OSError):
                pass
            await t.close()
        if self._supervisor is not None:
            await asyncio.gather(self._supervisor, return_exceptions=True)

    async def wait_stopped(self) -> Stopped:
        await asyncio.gather(self._supervisor, return_exceptions=True)
        return self._stopped

    async def drop(self) -> None:
        """Closes the transport without a goodbye, like a lost network (the client reconnects)."""
        if self._transport is not None:
            await self._transport.close()

    async def _supervise(self) -> None:
        attempt = 0
        url = self.url
        while self._stopped is None:
            disconnect: dict | None = None
            code = 0
            try:
                disconnect, code = await self._connection(url)
                attempt = 0
            except (Closed, OSError, ProtocolError) as e:
                code = getattr(e, "code", 0)
                attempt += 1
            if self._stopped is not None:
                break
            advice = reconnect_advice(code, disconnect, attempt)
            self.on_event("closed", {"code": code, "disconnect": disconnect, "reconnect": advice.reconnect, "delay_s": advice.delay_s})
            if not advice.reconnect:
                reason = (disconnect or {}).get("reason", "")
                self._stopped = Stopped(code, reason)
                if self._first is not None and not self._first.done():
                    self._first.set_exception(self._stopped)
                break
            url = advice.url or url
            await asyncio.sleep(advice.delay_s)
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(self._stopped or _ConnectionLost())

    async def _connection(self, url: str) -> tuple[dict | None, int]:
        """One connection, from connect to close: returns (Disconnect frame or None, code)."""
        t = await open_transport(url)
        self._transport = t
        self.connections += 1
        self._last_rx = time.monotonic()
        # §7.1 step 2: the read loop runs before Authenticate is sent.
        reader = asyncio.create_task(self._read_loop(t))
        try:
            auth_id = self._new_id()
            auth = self._expect(auth_id)
            await t.send(encode_frame({"id": auth_id, "authenticate": {
                "token": self.token(), "device_id": self.state.device_id,
                "last_seq": self.state.last_seq, "client": self.client_name,
            }}))
            done, _ = await asyncio.wait({auth, reader}, return_when=asyncio.FIRST_COMPLETED)
            if auth in done and "auth_result" in auth.result():
                self._on_auth_result(auth.result()["auth_result"])
                watchdog = asyncio.create_task(self._watchdog(t))
                self._connected.set()
                for topic, offset in list(self.state.topics.items()):
                    asyncio.create_task(self._resubscribe(topic, offset))
                try:
                    return await reader
                finally:
                    watchdog.cancel()
            return await reader
        finally:
            self._connected.clear()
            self._transport = None
            for i, fut in list(self._waiting.items()):
                if not fut.done():
                    fut.set_exception(_ConnectionLost())
            self._waiting.clear()
            await t.close()

    def _on_auth_result(self, r: dict) -> None:
        self.auth = r
        if r.get("log_reset"):
            # §5.4: the server's log no longer has our history; take its position as ours.
            self.state.last_seq = r.get("acked_seq", 0)
        self._transport.set_max_frame_bytes(r.get("max_frame_bytes", 65536))
        self.on_event("authenticated", {"acked_seq": r.get("acked_seq", 0), "log_reset": bool(r.get("log_reset")), "connections": self.connections})
        if self._first is not None and not self._first.done():
            self._first.set_result(r)

    async def _watchdog(self, t) -> None:
        """§5.6: twice heartbeat_ms, plus the second by which the server's Pings may be late, without
        any frame from the server = a dead connection."""
        hb = self.auth.get("heartbeat_ms", 25000) / 1000
        while True:
            await asyncio.sleep(hb / 2)
            if time.monotonic() - self._last_rx > 2 * hb + 1:
                self.on_event("dead", {})
                await t.close()
                return

    # ---- the read loop ----

    async def _read_loop(self, t) -> tuple[dict | None, int]:
        max_frame = 65536
        while True:
            try:
                frames = await t.recv()
            except Closed as e:
                return None, e.code
            except (ConnectionError, OSError):
                return None, 0
            self._last_rx = time.monotonic()
            ack_to = 0
            for raw in frames:
                frame = decode_frame(raw, max(max_frame, self.auth.get("max_frame_bytes", 0)))
                kind = body_of(frame)
                if kind == "deliver":
                    ack_to = max(ack_to, await self._on_deliver(frame["deliver"]))
                elif kind == "ping":
                    if self.answer_pings:
                        await t.send(encode_frame({"id": frame.get("id", 0), "pong": frame["ping"]}))
                        self.pings_answered += 1
                        self.ping_event.set()
                elif kind == "disconnect":
                    d = frame["disconnect"]
                    # §5.8: read on until the server closes (WebSocket close frame, TCP FIN).
                    await self._drain_until_closed(t)
                    return d, d.get("code", 0)
                elif kind in ("auth_result", "send_ack", "reply", "presence_result", "error", "pong", "service_ack"):
                    fut = self._waiting.pop(frame.get("id", 0), None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                    elif kind == "error":
                        self.on_event("error", frame["error"])  # e.g. a refused id-0 send
                # Any other body: a newer server's; ignored (§3.2).
            if ack_to:
                # One cumulative Ack per read, after processing (§5.4).
                await t.send(encode_frame({"ack": {"seq": ack_to}}))

    async def _drain_until_closed(self, t) -> None:
        try:
            while True:
                await t.recv()
        except (Closed, ConnectionError, OSError):
            return

    async def _on_deliver(self, d: dict) -> int:
        """Processes one Deliver; returns the user seq to ack (0 = nothing to ack)."""
        seq, topic, qos = d.get("seq", 0), d.get("topic", ""), d.get("qos", 0)
        if qos == 1 and not topic and seq <= self.state.last_seq:
            return 0  # a repeat (at least once means possibly twice): already processed
        if qos == 1 and topic:
            if seq <= self.state.topics.get(topic, 0):
                return 0
        delivery = Delivery(seq, d.get("payload", b""), d.get("from_user", ""), d.get("from_device", ""), topic, qos,
                            d.get("client_msg_id", ""), d.get("from_service", ""), d.get("timestamp_ms", 0))
        if self.on_deliver is not None:
            result = self.on_deliver(delivery)
            if asyncio.iscoroutine(result):
                await result
        if qos == 1 and topic:
            self.state.topics[topic] = max(seq, self.state.topics.get(topic, 0))
        if qos == 1 and not topic:
            self.state.last_seq = seq  # processed: only now may it be acked
            return seq
        return 0

    # ---- requests ----

    def _new_id(self) -> int:
        self._next_id = self._next_id % 0xFFFFFFFF + 1  # any non-zero u32
        return self._next_id

    def _expect(self, request_id: int) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        # A reply nobody waits for any more (the connection ended first) is not an error to report.
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting[request_id] = fut
        return fut

    async def request(self, body: str, fields: dict, timeout_s: float = 10.0) -> dict:
        """One request on the current connection; resolves with the reply frame (which may be an Error)."""
        await self._wait_connected()
        t = self._transport
        request_id = self._new_id()
        fut = self._expect(request_id)
        try:
            await t.send(encode_frame({"id": request_id, body: fields}))
        except (Closed, OSError) as e:
            raise _ConnectionLost() from e
        return await asyncio.wait_for(fut, timeout_s)

    async def _wait_connected(self) -> None:
        while not self._connected.is_set():
            if self._stopped is not None:
                raise self._stopped
            await self._connected.wait()

    async def _reliable(self, body: str, fields: dict) -> dict:
        """A request retried, with the same fields, after retryable errors and reconnects (§7.1 step 7)."""
        attempt = 0
        while True:
            try:
                reply = await self.request(body, fields)
            except (_ConnectionLost, asyncio.TimeoutError):
                continue  # resent on the next connection, same client_msg_id
            if "error" not in reply:
                return reply
            err = reply["error"]
            if not err.get("retryable"):
                raise RequestFailed(err)
            attempt += 1
            delay = err.get("retry_after_ms", 0) / 1000 or backoff_s(attempt)
            await asyncio.sleep(delay)

    async def send(self, to_user: str, payload: bytes, qos: int = 0, client_msg_id: str | None = None,
                   ephemeral: bool = False) -> dict:
        """Send to a user. QoS 1: resolves with the SendAck once the server has stored it."""
        fields = {"to_user": to_user, "payload": payload, "qos": qos, "ephemeral": ephemeral}
        if qos == 1:
            fields["client_msg_id"] = client_msg_id or str(uuid.uuid4())
        elif client_msg_id:
            fields["client_msg_id"] = client_msg_id
        return (await self._reliable("send", fields))["send_ack"]

    async def send_fire_and_forget(self, to_user: str, payload: bytes) -> None:
        """QoS 0 with id 0: no SendAck (§3.1); a refusal comes back as an Error of id 0 (on_event)."""
        await self._wait_connected()
        await self._transport.send(encode_frame({"send": {"to_user": to_user, "payload": payload}}))

    async def publish(self, topic: str, payload: bytes, qos: int = 0, client_msg_id: str | None = None) -> dict:
        fields = {"topic": topic, "payload": payload, "qos": qos}
        if qos == 1:
            fields["client_msg_id"] = client_msg_id or str(uuid.uuid4())
        return (await self._reliable("publish", fields))["send_ack"]

    async def subscribe(self, topic: str, since_seq: int = 0) -> int:
        """Subscribes (kept across reconnects); returns the topic's current last offset."""
        reply = await self._reliable("subscribe", {"topic": topic, "since_seq": since_seq})
        topic_seq = reply["reply"].get("topic_seq", 0)
        # Live from here: on a reconnect, replay from what we have (or from where we started).
        self.state.topics[topic] = max(self.state.topics.get(topic, 0), since_seq or topic_seq)
        return topic_seq

    async def _resubscribe(self, topic: str, offset: int) -> None:
        try:
            await self.request("subscribe", {"topic": topic, "since_seq": offset})
        except (_ConnectionLost, asyncio.TimeoutError, Stopped):
            pass  # the next connection subscribes again

    async def presence(self, user_ids: list[str]) -> list[dict]:
        reply = await self._reliable("presence_query", {"user_ids": user_ids})
        return reply["presence_result"].get("users", [])
