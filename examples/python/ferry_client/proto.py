"""Ferry frames <-> protobuf bytes, by hand (docs/protocol.md §3.4 schema, §4 encoding rules).

A frame is a dict: {"id": 7, "send": {"to_user": "bob", "payload": b"hi", "qos": 1, ...}} with the
.proto field names, exactly one body key besides "id", bytes fields as `bytes`, nested messages as
dicts and repeated fields as lists. Fields equal to their default are left out when encoding and
absent from decoded dicts (proto3 cannot tell "default" from "absent", §3.3).
"""

from __future__ import annotations

# Disconnect codes the decoder reports (§6.2).
BAD_FRAME = 4500
FRAME_TOO_LARGE = 4501
UNKNOWN_FRAME_TYPE = 4502

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5


class ProtocolError(Exception):
    """Bytes that are not a valid Frame; `code` is the disconnect code the server would use."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


# Message schemas, from §3.4: field number -> (name, type, nested schema name or None, repeated).
# Types: u32, u64, i64, bool, enum (varint); str, bytes, msg (LEN).
S = {
    "Authenticate": {1: ("token", "str"), 2: ("device_id", "str"), 3: ("last_seq", "u64"), 4: ("client", "str")},
    "AuthResult": {
        1: ("user_id", "str"), 2: ("device_id", "str"), 3: ("session_id", "str"), 4: ("node_id", "str"),
        5: ("heartbeat_ms", "u32"), 6: ("idle_timeout_ms", "u32"), 7: ("max_frame_bytes", "u32"),
        8: ("acked_seq", "u64"), 9: ("expires_at_ms", "i64"), 10: ("log_reset", "bool"),
    },
    "Send": {1: ("to_user", "str"), 2: ("payload", "bytes"), 3: ("qos", "enum"), 4: ("client_msg_id", "str"), 5: ("ephemeral", "bool")},
    "SendAck": {1: ("client_msg_id", "str"), 2: ("server_id", "str"), 3: ("seq", "u64"), 4: ("timestamp_ms", "i64"), 5: ("duplicate", "bool")},
    "Deliver": {
        1: ("server_id", "str"), 2: ("seq", "u64"), 3: ("from_user", "str"), 4: ("from_device", "str"),
        5: ("topic", "str"), 6: ("payload", "bytes"), 7: ("timestamp_ms", "i64"), 8: ("qos", "enum"),
        9: ("client_msg_id", "str"), 10: ("ephemeral", "bool"), 11: ("from_service", "str"),
    },
    "Ack": {1: ("seq", "u64")},
    "Ping": {1: ("timestamp_ms", "i64")},
    "Pong": {1: ("timestamp_ms", "i64")},
    "Subscribe": {1: ("topic", "str"), 2: ("since_seq", "u64"), 3: ("token", "str"), 4: ("from_start", "bool")},
    "Unsubscribe": {1: ("topic", "str")},
    "Publish": {1: ("topic", "str"), 2: ("payload", "bytes"), 3: ("qos", "enum"), 4: ("client_msg_id", "str"), 5: ("ephemeral", "bool")},
    "PresenceQuery": {1: ("user_ids", "str", None, True)},
    "DevicePresence": {1: ("device_id", "str"), 2: ("transport", "str"), 3: ("node_id", "str"), 4: ("since_ms", "i64")},
    "UserPresence": {1: ("user_id", "str"), 2: ("online", "bool"), 3: ("devices", "msg", "DevicePresence", True)},
    "PresenceResult": {1: ("users", "msg", "UserPresence", True)},
    "Reply": {1: ("topic_seq", "u64")},
    "Error": {1: ("code", "u32"), 2: ("message", "str"), 3: ("retryable", "bool"), 4: ("retry_after_ms", "u32")},
    "Disconnect": {1: ("code", "u32"), 2: ("reason", "str"), 3: ("reconnect", "bool"), 4: ("reconnect_delay_ms", "u32"), 5: ("reconnect_url", "str")},
    "ServiceRequest": {1: ("type", "u32"), 2: ("payload", "bytes"), 3: ("msg_id", "str")},
    "ServiceAck": {1: ("msg_id", "str"), 2: ("service", "str"), 3: ("duplicate", "bool")},
}

# The Frame's bodies (§3.2): field number -> (body name, schema).
BODIES = {
    10: ("authenticate", "Authenticate"), 11: ("auth_result", "AuthResult"), 12: ("send", "Send"),
    13: ("send_ack", "SendAck"), 14: ("deliver", "Deliver"), 15: ("ack", "Ack"), 16: ("ping", "Ping"),
    17: ("pong", "Pong"), 18: ("subscribe", "Subscribe"), 19: ("unsubscribe", "Unsubscribe"),
    20: ("publish", "Publish"), 21: ("presence_query", "PresenceQuery"),
    22: ("presence_result", "PresenceResult"), 23: ("reply", "Reply"), 24: ("error", "Error"),
    25: ("disconnect", "Disconnect"), 26: ("service_request", "ServiceRequest"), 27: ("service_ack", "ServiceAck"),
}
BODY_NUMBERS = {name: (num, schema) for num, (name, schema) in BODIES.items()}

VARINT_TYPES = {"u32", "u64", "i64", "bool", "enum"}


def _field(spec: tuple) -> tuple[str, str, str | None, bool]:
    name, kind = spec[0], spec[1]
    nested = spec[2] if len(spec) > 2 else None
    repeated = spec[3] if len(spec) > 3 else False
    return name, kind, nested, repeated


# ---- encoding (§4.1) ----

def encode_varint(n: int, out: bytearray) -> None:
    n &= (1 << 64) - 1  # negative int64: two's complement over 64 bits (ten bytes)
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _tag(number: int, wire: int, out: bytearray) -> None:
    encode_varint((number << 3) | wire, out)


def _len_field(number: int, data: bytes, out: bytearray) -> None:
    _tag(number, LEN, out)
    encode_varint(len(data), out)
    out += data


def encode_message(schema: str, msg: dict) -> bytes:
    """Fields in ascending number order, defaults left out."""
    out = bytearray()
    for number, spec in sorted(S[schema].items()):
        name, kind, nested, repeated = _field(spec)
        value = msg.get(name)
        values = (value or []) if repeated else [value]
        for v in values:
            if v is None or (not repeated and v in (0, "", b"", False) and not isinstance(v, dict)):
                continue
            if kind in VARINT_TYPES:
                _tag(number, VARINT, out)
                encode_varint(int(v), out)
            elif kind == "str":
                _len_field(number, v.encode("utf-8"), out)
            elif kind == "bytes":
                _len_field(number, bytes(v), out)
            else:
                _len_field(number, encode_message(nested, v), out)
    return bytes(out)


def encode_frame(frame: dict) -> bytes:
    """One Frame, no length prefix. The body is written even when empty (`ping {}` = 82 01 00)."""
    out = bytearray()
    if frame.get("id"):
        _tag(1, VARINT, out)
        encode_varint(frame["id"], out)
    bodies = [k for k in frame if k != "id"]
    if len(bodies) != 1:
        raise ValueError(f"a frame has exactly one body, got {bodies}")
    number, schema = BODY_NUMBERS[bodies[0]]
    _len_field(number, encode_message(schema, frame[bodies[0]]), out)
    return bytes(out)


# ---- decoding (§4.4) ----

class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None):
        self.data, self.pos, self.end = data, start, len(data) if end is None else end

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= self.end:
                raise ProtocolError(BAD_FRAME, "truncated varint")
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result & ((1 << 64) - 1)
            shift += 7
            if shift >= 70:
                raise ProtocolError(BAD_FRAME, "varint longer than 10 bytes")

    def tag(self) -> tuple[int, int]:
        t = self.varint()
        number, wire = t >> 3, t & 7
        if number == 0:
            raise ProtocolError(BAD_FRAME, "field number 0")
        if wire in (6, 7):
            raise ProtocolError(BAD_FRAME, f"invalid wire type {wire}")
        return number, wire

    def length_delimited(self) -> bytes:
        n = self.varint()
        if self.pos + n > self.end:
            raise ProtocolError(BAD_FRAME, "length past the end of its message")
        data = self.data[self.pos:self.pos + n]
        self.pos += n
        return data

    def skip(self, number: int, wire: int, depth: int = 0) -> None:
        if wire == VARINT:
            self.varint()
        elif wire == LEN:
            self.length_delimited()
        elif wire in (I64, I32):
            n = 8 if wire == I64 else 4
            if self.pos + n > self.end:
                raise ProtocolError(BAD_FRAME, "fixed-width field past the end")
            self.pos += n
        elif wire == SGROUP:
            if depth > 32:
                raise ProtocolError(BAD_FRAME, "groups nested too deep")
            while True:
                if self.pos >= self.end:
                    raise ProtocolError(BAD_FRAME, "unterminated group")
                n, w = self.tag()
                if w == EGROUP:
                    if n != number:
                        raise ProtocolError(BAD_FRAME, "unbalanced group")
                    return
                self.skip(n, w, depth + 1)
        else:
            raise ProtocolError(BAD_FRAME, "unbalanced group end")


def _string(data: bytes) -> str:
    try:
        return data.decode("utf-8")  # strict: overlong forms, surrogates and truncation all fail
    except UnicodeDecodeError as e:
        raise ProtocolError(BAD_FRAME, "string field is not valid UTF-8") from e


def decode_message(schema: str, data: bytes) -> dict:
    out: dict = {}
    r = _Reader(data)
    fields = S[schema]
    while r.pos < r.end:
        number, wire = r.tag()
        spec = fields.get(number)
        if spec is None:
            r.skip(number, wire)
            continue
        name, kind, nested, repeated = _field(spec)
        expected = VARINT if kind in VARINT_TYPES else LEN
        if wire != expected:
            r.skip(number, wire)  # a known field with the wrong wire type is skipped (§4.4)
            continue
        if kind in VARINT_TYPES:
            v = r.varint()
            if kind == "i64" and v >= 1 << 63:
                v -= 1 << 64
            elif kind == "bool":
                v = v != 0
            elif kind == "u32":
                v &= 0xFFFFFFFF
        elif kind == "str":
            v = _string(r.length_delimited())
        elif kind == "bytes":
            v = r.length_delimited()
        else:
            v = decode_message(nested, r.length_delimited())
            if not repeated and name in out:  # a repeated nested message merges (last scalar wins)
                v = {**out[name], **v}
        if repeated:
            out.setdefault(name, []).append(v)
        elif v in (0, "", b"", False) and not isinstance(v, dict):
            out.pop(name, None)  # the last value wins, and a default is the same as absent
        else:
            out[name] = v
    return out


def decode_frame(data: bytes, max_frame_bytes: int | None = None) -> dict:
    """Decodes one Frame (no length prefix). Raises ProtocolError with the server's code (§4.4)."""
    if max_frame_bytes is not None and len(data) > max_frame_bytes:
        raise ProtocolError(FRAME_TOO_LARGE, f"frame of {len(data)} bytes exceeds {max_frame_bytes}")
    r = _Reader(data)
    frame: dict = {}
    body = None
    unknown = 0
    while r.pos < r.end:
        number, wire = r.tag()
        if number == 1 and wire == VARINT:
            frame["id"] = r.varint() & 0xFFFFFFFF
        elif number in BODIES:
            if wire != LEN:
                raise ProtocolError(BAD_FRAME, f"body field {number} has wire type {wire}, expected 2")
            name, schema = BODIES[number]
            value = decode_message(schema, r.length_delimited())
            if body == name:
                value = {**frame[name], **value}  # the same body twice: messages merge
            elif body is not None:
                del frame[body]  # two bodies: the last one wins (proto3 oneof)
            body = name
            frame[name] = value
        else:
            if number != 1 and unknown == 0:
                unknown = number
            r.skip(number, wire)
    if frame.get("id") == 0:
        del frame["id"]
    if body is None:
        if unknown:
            raise ProtocolError(UNKNOWN_FRAME_TYPE, f"unknown frame type (field {unknown})")
        raise ProtocolError(BAD_FRAME, "frame has no body")
    return frame


def body_of(frame: dict) -> str:
    """The body name of a frame ("deliver", "send_ack", ...)."""
    return next(k for k in frame if k != "id")
