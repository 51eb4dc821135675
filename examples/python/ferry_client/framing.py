"""u32 big-endian length-prefixed records (docs/protocol.md §2.1): raw TCP and WebTransport streams."""

from __future__ import annotations

import struct

from .proto import FRAME_TOO_LARGE, ProtocolError


def prefix(body: bytes) -> bytes:
    """One record: the length, then the Frame."""
    return struct.pack(">I", len(body)) + body


class StreamReader:
    """Turns reads of any size into whole frame bodies. A read may hold part of a prefix, part of a
    frame, or several records: every byte is kept until its record is complete. A declared length
    over the limit raises ProtocolError 4501, carrying the frames completed before it (`frames`)."""

    def __init__(self, max_frame_bytes: int = 65536):
        self.max_frame_bytes = max_frame_bytes
        self.buf = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self.buf += data
        frames = []
        while len(self.buf) >= 4:
            (n,) = struct.unpack_from(">I", self.buf, 0)
            if n > self.max_frame_bytes:  # checked as soon as the prefix is in (§2.1)
                err = ProtocolError(FRAME_TOO_LARGE, f"declared length {n} exceeds {self.max_frame_bytes}")
                err.frames = frames  # the records completed before it, in this read
                raise err
            if len(self.buf) < 4 + n:
                break
            frames.append(bytes(self.buf[4:4 + n]))
            del self.buf[:4 + n]
        return frames
