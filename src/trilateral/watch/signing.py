"""Webhook signatures: HMAC-SHA256 over "<unix time>.<body>", sent as
`Trilateral-Signature: t=<unix time>,v1=<hex>`. docs/watch.md shows the receiver's side."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Trilateral-Signature"
KEY_HEADER = "Idempotency-Key"
EVENT_HEADER = "Trilateral-Event"


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
