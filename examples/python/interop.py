"""Drives the reference client against a running node, step by step, and prints one JSON line per
step ({"step": ..., "ok": true}); exits 1 at the first step that fails. Ferry's integration tests run
it against a real `ferry start` (test/integration/client/python-client.test.ts).

    /usr/bin/python3 interop.py --tcp tcp://127.0.0.1:7000 --ws ws://127.0.0.1:8080/ws \\
        --secret-file .ferry/dev-secret [--drain]

The node should run with a short heartbeat and idle timeout (--heartbeat 500ms --idle-timeout 2s)
so that the Ping and idle steps are quick. With --drain the last step prints {"step": "await-drain"}
and waits for the node's go-away (send it SIGTERM then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys

from ferry_client import Client, Delivery, Stopped
from ferry_client.client import State
from ferry_client.token import mint, read_dev_secret

RUN = secrets.token_hex(3)  # user ids of this run: a node may be reused


def report(step: str, **info) -> None:
    print(json.dumps({"step": step, "ok": True, **info}), flush=True)


class Inbox:
    """Deliveries of one client, awaited by the steps (no sleeps: each step waits for its event)."""

    def __init__(self):
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue()

    def __call__(self, d: Delivery) -> None:
        self.queue.put_nowait(d)

    async def next(self, timeout: float = 10) -> Delivery:
        return await asyncio.wait_for(self.queue.get(), timeout)


class Events:
    def __init__(self):
        self.seen: list[tuple[str, dict]] = []
        self.changed = asyncio.Event()

    def __call__(self, kind: str, info: dict) -> None:
        self.seen.append((kind, info))
        self.changed.set()

    async def wait(self, pred, timeout: float = 15) -> dict:
        async def loop():
            while True:
                for kind, info in self.seen:
                    if pred(kind, info):
                        return info
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(loop(), timeout)


def check(cond: bool, what: str) -> None:
    if not cond:
        print(json.dumps({"step": what, "ok": False}), flush=True)
        raise SystemExit(1)


async def main(a) -> None:
    secret = read_dev_secret(a.secret_file)
    alice_id, bob_id = f"py-alice-{RUN}", f"py-bob-{RUN}"

    def client(url: str, user: str, device: str, inbox=None, events=None) -> Client:
        return Client(url, lambda: mint(secret, user), State(device_id=device), on_deliver=inbox, on_event=events)

    alice_events, bob_events = Events(), Events()
    alice_inbox, bob_inbox = Inbox(), Inbox()
    alice = client(a.ws, alice_id, "laptop", alice_inbox, alice_events)
    bob = client(a.tcp, bob_id, "phone", bob_inbox, bob_events)
    auth = await alice.start()
    check(auth["user_id"] == alice_id and auth.get("heartbeat_ms", 0) > 0, "authenticate over WebSocket")
    auth = await bob.start()
    check(auth["user_id"] == bob_id and auth["device_id"] == "phone", "authenticate over TCP")
    report("authenticate", ws=alice_id, tcp=bob_id)

    ack = await alice.send(bob_id, b"hello bob", qos=1)
    check(ack.get("seq", 0) > 0 and not ack.get("duplicate"), "QoS-1 SendAck")
    d = await bob_inbox.next()
    check((d.payload, d.from_user, d.qos, d.seq) == (b"hello bob", alice_id, 1, ack["seq"]), "QoS-1 Deliver")
    again = await alice.send(bob_id, b"hello bob", qos=1, client_msg_id=d.client_msg_id)
    check(again.get("duplicate") is True and again["seq"] == ack["seq"], "QoS-1 retry is deduplicated")
    report("qos1", seq=ack["seq"])

    ack0 = await alice.send(bob_id, b"quick", qos=0)
    check(ack0.get("seq", 0) == 0, "QoS-0 SendAck has seq 0")
    check((await bob_inbox.next()).payload == b"quick", "QoS-0 Deliver")
    await alice.send_fire_and_forget(bob_id, b"no ack wanted")
    check((await bob_inbox.next()).payload == b"no ack wanted", "id-0 QoS-0 Deliver")
    await alice.send_fire_and_forget("$server", b"refused")
    err = await alice_events.wait(lambda k, i: k == "error")
    check(err.get("code") == 103, "an id-0 send refused with Error 103")
    report("qos0")

    topic = f"py-room-{RUN}"
    check(await bob.subscribe(topic) == 0, "Subscribe answers topic_seq 0")
    pub = await alice.publish(topic, b"to the room", qos=1)
    d = await bob_inbox.next()
    check((d.topic, d.seq, d.payload) == (topic, pub["seq"], b"to the room"), "topic Deliver carries its offset")
    users = await alice.presence([bob_id])
    check(users[0].get("online") is True and users[0]["devices"][0]["transport"] == "tcp", "presence")
    report("topics", offset=pub["seq"])

    # Pings: with the node's idle timeout shorter than these, only the Pongs keep bob connected.
    idle_ms = bob.auth["idle_timeout_ms"]
    pings = int(2 * idle_ms / bob.auth["heartbeat_ms"]) + 1
    for _ in range(pings):
        await next_ping(bob)
    check(bob.connections == 1, "Pongs keep the connection past the idle timeout")
    report("pings", answered=pings, idle_timeout_ms=idle_ms)

    # Stop answering Pings: the node cuts bob (4004, reconnect advised); he reconnects on his own and
    # resumes from his last processed seq, and from his topic offset.
    last = bob.state.last_seq
    bob.answer_pings = False
    cut = await bob_events.wait(lambda k, i: k == "closed")
    bob.answer_pings = True
    check(cut["code"] == 4004 and cut["reconnect"] is True, "idle cut 4004 advises a reconnect")
    acks = [await alice.send(bob_id, f"missed {i}".encode(), qos=1) for i in range(3)]
    missed_pub = await alice.publish(topic, b"missed in the room", qos=1)
    await bob_events.wait(lambda k, i: k == "authenticated" and i["connections"] == 2)
    got = [await bob_inbox.next() for _ in range(4)]
    user_msgs = [x for x in got if not x.topic]
    room = [x for x in got if x.topic]
    check([x.payload for x in user_msgs] == [b"missed 0", b"missed 1", b"missed 2"], "replay after reconnect, in order")
    check([x.seq for x in user_msgs] == [a_["seq"] for a_ in acks] and user_msgs[0].seq > last, "replay resumes after last_seq")
    check(len(room) == 1 and room[0].seq == missed_pub["seq"], "topic resubscribed with since_seq")
    report("reconnect", code=cut["code"], replayed=len(user_msgs))

    # The same device again: the older connection is told 4505 and must not reconnect.
    bob2 = client(a.ws, bob_id, "phone")
    await bob2.start()
    stopped = await bob.wait_stopped()
    check(stopped.code == 4505, "4505 REPLACED stops the client")
    report("replaced", code=stopped.code)
    await bob2.close()

    bad = Client(a.tcp, lambda: "not-a-jwt", State(device_id="x"))
    try:
        await bad.start()
        check(False, "a bad token is refused")
    except Stopped as e:
        check(e.code == 4504, "a bad token stops the client with 4504")
    report("bad-token", code=4504)

    if a.drain:
        report("await-drain")
        info = await alice_events.wait(lambda k, i: k == "closed", timeout=60)
        check(info["code"] == 4001 and info["reconnect"] is True, "drain sends 4001 GOING_AWAY")
        check(info["delay_s"] >= info["disconnect"]["reconnect_delay_ms"] / 1000 > 0, "reconnect after the advised delay")
        report("drain", code=4001, delay_s=info["delay_s"])
        alice._stopped = Stopped(4001, "test over")  # the node is gone: stop instead of retrying
        await alice.wait_stopped()
    else:
        await alice.close()
    report("done")


async def next_ping(c: Client) -> None:
    """Waits for the client's next answered Ping."""
    before = c.pings_answered
    while c.pings_answered == before:
        await c.ping_event.wait()
        c.ping_event.clear()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--tcp", required=True)
    p.add_argument("--ws", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--drain", action="store_true")
    try:
        asyncio.run(main(p.parse_args()))
    except (asyncio.TimeoutError, Stopped, OSError) as e:
        print(json.dumps({"step": "error", "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        sys.exit(1)
