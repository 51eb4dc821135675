"""Development tokens (README "Start a node"): HS256 JWTs signed with the node's dev secret.

The key is the text of `<data dir>/dev-secret` without its trailing newline, as UTF-8 bytes (not
base64-decoded); the header may name the key id "dev". The claims need `sub` (the user id) and `exp`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(secret: str, user_id: str, ttl_seconds: int = 3600, device_id: str | None = None, kid: str | None = "dev") -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if device_id is not None:
        claims["did"] = device_id
    signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(sig)


def read_dev_secret(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()
