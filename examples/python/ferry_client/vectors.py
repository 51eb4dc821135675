"""Runs docs/test-vectors/ against this client: the codec, the stream reader and the reconnect policy
offline, and (with --tcp / --ws / --secret-file) reactions.json against a running node.

    /usr/bin/python3 -m ferry_client.vectors [--dir docs/test-vectors]
        [--tcp tcp://127.0.0.1:7000 --ws ws://127.0.0.1:8080/ws --secret-file .ferry/dev-secret]

Prints one line per failure and a summary; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys

from . import token as tokens
from .client import reconnect_advice
from .framing import StreamReader
from .proto import ProtocolError, body_of, decode_frame, encode_frame
from .transport import Closed, TcpTransport, WsTransport

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "docs", "test-vectors"))
BYTES_FIELDS = {"payload"}


def unhex(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def from_json(value, key=""):
    """A vector's frame -> this client's frame dict (bytes fields from hex)."""
    if key in BYTES_FIELDS and isinstance(value, str):
        return unhex(value)
    if isinstance(value, dict):
        return {k: from_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def to_json(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


class Report:
    def __init__(self):
        self.passed = 0
        self.failed: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL {what}", flush=True)


def load(directory: str, name: str) -> dict:
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return json.load(f)


def run_offline(directory: str, r: Report) -> None:
    frames = load(directory, "frames.json")
    for v in frames["encode"]:
        r.check(encode_frame(from_json(v["frame"])) == unhex(v["hex"]), f"frames.json encode {v['name']}")
        r.check(to_json(decode_frame(unhex(v["hex"]))) == v["frame"], f"frames.json decode {v['name']}")
    for v in frames["decode_only"]:
        r.check(to_json(decode_frame(unhex(v["hex"]))) == v["frame"], f"frames.json decode_only {v['name']}")

    framing = load(directory, "framing.json")
    for v in framing["vectors"]:
        reader = StreamReader(framing["max_frame_bytes"])
        got, error = [], 0
        try:
            for read in v["reads"]:
                got += reader.push(unhex(read))
        except ProtocolError as e:
            error = e.code
            got += getattr(e, "frames", [])
        r.check(got == [unhex(f) for f in v["frames"]] and error == v.get("error", 0), f"framing.json {v['name']}")
        if "decode_error" in v:
            for f in v["frames"]:
                r.check(_decode_error(unhex(f), framing["max_frame_bytes"]) == v["decode_error"], f"framing.json decode {v['name']}")

    codes = load(directory, "codes.json")
    for c in codes["reply_errors"] + codes["disconnects"]:
        r.check(encode_frame(from_json(c["frame"])) == unhex(c["hex"]), f"codes.json encode {c['code']}")
        r.check(to_json(decode_frame(unhex(c["hex"]))) == c["frame"], f"codes.json decode {c['code']}")
    for c in codes["disconnects"]:
        d = decode_frame(unhex(c["hex"]))["disconnect"]
        advice = reconnect_advice(d["code"], d, attempt=1, jitter=0)
        r.check(advice.reconnect == c["reconnect"], f"codes.json reconnect decision {c['code']}")
        if advice.reconnect and d.get("reconnect_delay_ms"):
            r.check(advice.delay_s >= d["reconnect_delay_ms"] / 1000, f"codes.json reconnect delay {c['code']}")
    for c in codes["websocket_close_codes"]:
        r.check(reconnect_advice(c["code"], None, 1, 0).reconnect == c["reconnect"], f"codes.json WebSocket {c['code']}")

    reactions = load(directory, "reactions.json")
    limit = reactions["node_config"]["limits"]["maxFrameBytes"]
    for v in reactions["vectors"]:
        close = v.get("close") or {}
        if len(v["send"]) == 1 and "hex" in v["send"][0] and close.get("code") in (4500, 4502):
            r.check(_decode_error(unhex(v["send"][0]["hex"]), limit) == close["code"], f"reactions.json decoder {v['name']}")


def _decode_error(data: bytes, limit: int) -> int:
    try:
        decode_frame(data, limit)
    except ProtocolError as e:
        return e.code
    return 0


# ---- reactions against a node ----

async def _open(kind: str, url: str, secret: str | None, authenticate: bool):
    t = await (TcpTransport.open(url) if kind == "tcp" else WsTransport.open(url))
    if authenticate:
        tok = tokens.mint(secret, f"py-vector-{secrets.token_hex(4)}")
        await t.send(encode_frame({"id": 1, "authenticate": {"token": tok}}))
        f = await _next(t, [])
        if body_of(f) != "auth_result":
            raise RuntimeError(f"login refused: {f}")
    return t


async def _next(t, buffered: list) -> dict:
    """The next frame from the server; Pings are answered and skipped (a node's heartbeat)."""
    while True:
        while buffered:
            f = decode_frame(buffered.pop(0))
            if body_of(f) == "ping":
                await t.send(encode_frame({"id": f.get("id", 0), "pong": f["ping"]}))
                continue
            return f
        buffered += await asyncio.wait_for(t.recv(), 10)


def _matches(f: dict, want: dict) -> bool:
    if "hex" in want:
        return encode_frame(f) == unhex(want["hex"])
    body = body_of(f)
    fields = to_json(f[body])
    return f.get("id", 0) == want["id"] and body == want["body"] and all(
        fields.get(k, False if isinstance(v, bool) else 0) == v for k, v in want["fields"].items())


def _want_id(want: dict) -> int:
    return decode_frame(unhex(want["hex"])).get("id", 0) if "hex" in want else want["id"]


async def run_reaction(v: dict, kind: str, url: str, secret: str) -> str | None:
    """Returns None when the node did what the vector says, else what went wrong."""
    t = await _open(kind, url, secret, v["authenticate"])
    buffered: list = []
    random_id = secrets.token_hex(3).encode()
    try:
        for item in v["send"]:
            if "hex" in item:
                # "RANDOM" as a client_msg_id: fresh bytes of the same length for each run.
                await t.send(unhex(item["hex"]).replace(b"RANDOM", random_id))
            elif "tcp_bytes" in item:
                await t.send_raw(unhex(item["tcp_bytes"]))
            elif "ws_zero_bytes" in item:
                await t.send_raw(bytes(item["ws_zero_bytes"]))
            else:
                await t.send_raw(item["ws_text"])
        got = [await _next(t, buffered) for _ in v["expect"]]
        got.sort(key=lambda f: f.get("id", 0))
        for f, want in zip(got, sorted(v["expect"], key=_want_id)):
            if not _matches(f, want):
                return f"got {to_json(f)}, want {want}"
        close = v.get("close")
        if close is None:
            return None
        code = 0
        if close.get("disconnect_frame", True):
            f = await _next(t, buffered)
            if body_of(f) != "disconnect" or f["disconnect"].get("code") != close["code"]:
                return f"got {to_json(f)}, want Disconnect {close['code']}"
            if "reason" in close and f["disconnect"].get("reason") != close["reason"]:
                return f"reason {f['disconnect'].get('reason')!r}, want {close['reason']!r}"
        try:
            while True:
                await asyncio.wait_for(t.recv(), 10)
        except Closed as e:
            code = e.code
        if kind == "ws" and code != close["code"]:
            return f"WebSocket close code {code}, want {close['code']}"
        return None
    finally:
        await t.close()


async def run_live(directory: str, tcp: str, ws: str, secret: str, r: Report) -> None:
    reactions = load(directory, "reactions.json")
    for v in reactions["vectors"]:
        for kind in v.get("transports", ["tcp", "ws"]):
            url = tcp if kind == "tcp" else ws
            try:
                problem = await run_reaction(v, kind, url, secret)
            except (Closed, OSError, asyncio.TimeoutError, RuntimeError) as e:
                problem = f"{type(e).__name__} {e}"
            r.check(problem is None, f"reactions.json {v['name']} ({kind}): {problem}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", default=DEFAULT_DIR)
    p.add_argument("--tcp")
    p.add_argument("--ws")
    p.add_argument("--secret-file")
    a = p.parse_args()
    r = Report()
    run_offline(a.dir, r)
    if a.tcp and a.ws and a.secret_file:
        asyncio.run(run_live(a.dir, a.tcp, a.ws, tokens.read_dev_secret(a.secret_file), r))
    print(json.dumps({"vectors_passed": r.passed, "vectors_failed": len(r.failed)}), flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
