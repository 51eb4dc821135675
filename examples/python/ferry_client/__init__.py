"""A reference Ferry client in Python (docs/protocol.md), written from the protocol document alone.

Modules: proto (Frame <-> bytes, by hand), framing (u32 BE length prefix), token (HS256 dev tokens),
transport (TCP with asyncio streams, WebSocket with the `websockets` package), client (the session:
authenticate, send and receive with QoS 0/1, acks, resume, topics, Pings, reconnect), vectors (runs
docs/test-vectors/).
"""

from .client import Client, Delivery, RequestFailed, Stopped
from .proto import ProtocolError, decode_frame, encode_frame

__all__ = [
    "Client",
    "Delivery",
    "RequestFailed",
    "Stopped",
    "ProtocolError",
    "decode_frame",
    "encode_frame",
]
