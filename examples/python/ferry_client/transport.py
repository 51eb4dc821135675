"""The two transports a non-browser client uses (docs/protocol.md §2): raw TCP with length-prefixed
frames (asyncio streams from the standard library) and WebSocket with one binary message per frame
(the `websockets` package, Debian's python3-websockets)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from .framing import StreamReader, prefix

DEFAULT_MAX_FRAME_BYTES = 65536  # §2.4: assume 64 KiB until AuthResult says otherwise


class Closed(Exception):
    """The connection ended. `code` is the WebSocket close code (0 on TCP, or when none came)."""

    def __init__(self, code: int = 0, reason: str = ""):
        super().__init__(f"closed {code} {reason}".strip())
        self.code, self.reason = code, reason


class TcpTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.frames = StreamReader(DEFAULT_MAX_FRAME_BYTES)

    @classmethod
    async def open(cls, url: str) -> "TcpTransport":
        u = urlsplit(url)
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        return cls(reader, writer)

    def set_max_frame_bytes(self, n: int) -> None:
        self.frames.max_frame_bytes = n

    async def send(self, frame: bytes) -> None:
        self.writer.write(prefix(frame))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self) -> list[bytes]:
        """The frames completed by one read (possibly none, possibly several)."""
        data = await self.reader.read(65536)
        if not data:
            raise Closed(0, "")
        return self.frames.push(data)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


class WsTransport:
    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, url: str) -> "WsTransport":
        import websockets  # python3-websockets; only WebSocket clients need it

        # No permessage-deflate (the server does not offer it); the frame limit is Ferry's to enforce.
        ws = await websockets.connect(url, compression=None, max_size=None, ping_interval=None)
        return cls(ws)

    def set_max_frame_bytes(self, n: int) -> None:
        pass

    async def send(self, frame: bytes) -> None:
        await self.ws.send(frame)  # bytes: one binary message

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def recv(self) -> list[bytes]:
        import websockets

        try:
            msg = await self.ws.recv()
        except websockets.ConnectionClosed as e:
            rcvd = e.rcvd
            raise Closed(rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "") from e
        if isinstance(msg, str):
            raise Closed(1002, "text message from the server")
        return [msg]

    async def close(self) -> None:
        await self.ws.close(1000)


async def open_transport(url: str):
    if url.startswith("tcp://"):
        return await TcpTransport.open(url)
    if url.startswith(("ws://", "wss://")):
        return await WsTransport.open(url)
    raise ValueError(f"unsupported URL {url} (tcp:// or ws://)")
