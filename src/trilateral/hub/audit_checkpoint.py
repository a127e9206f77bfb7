"""Signed checkpoints of the audit chain: a head a member keeps, checked against the log later.

A checkpoint is a small JSON file: the hub's key fingerprint, the newest entry's seq and MAC, the time,
the Ed25519 public key and a signature over the rest. Whoever keeps it can later show that the log
still holds that entry with that MAC (so every entry up to it is unchanged, since each MAC covers its
predecessor) and that it has not been cut below it, even by someone who holds the database and
the audit key and rebuilt the whole chain. The signature shows the file came from the hub; the
public key in the file can be pinned by its keeper.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.errors import InputError
from trilateral.hub import audit
from trilateral.hub.audit_key import bound_key, key_id, signing_key

FORMAT = "trilateral-audit-checkpoint/1"
_SIGNED = ("format", "hub_key_id", "seq", "hash", "created")


def _public_key_b64(private) -> str:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _message(data: dict[str, Any]) -> bytes:
    return orjson.dumps({k: data[k] for k in _SIGNED}, option=orjson.OPT_SORT_KEYS)


def make(conn: sa.Connection) -> dict[str, Any]:
    """A signed checkpoint of the current head (the chain must verify first)."""
    verdict = audit.verify(conn)
    if not verdict.ok:
        raise InputError(f"the audit log does not verify (entry {verdict.first_bad}: {verdict.reason}); "
                         "a checkpoint would vouch for a broken chain")
    key = bound_key(conn.engine)
    seq, digest = audit.head(conn)
    data: dict[str, Any] = {"format": FORMAT, "hub_key_id": key_id(key), "seq": seq, "hash": digest,
                            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    private = signing_key(key)
    data["public_key"] = _public_key_b64(private)
    data["signature"] = base64.b64encode(private.sign(_message(data))).decode()
    return data


def read(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a Trilateral audit checkpoint (format {FORMAT!r} expected)")
    for name, kind in (("hub_key_id", str), ("seq", int), ("hash", str), ("created", str),
                       ("public_key", str), ("signature", str)):
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise InputError(f"{path}: checkpoint field {name!r} is missing or not a {kind.__name__}")
    return data


def check(conn: sa.Connection, data: dict[str, Any]) -> tuple[bool, str]:
    """(ok, reason): the checkpoint is this hub's, genuinely signed, and the log still holds its head."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = bound_key(conn.engine)
    if data["hub_key_id"] != key_id(key):
        return False, f"the checkpoint is of another hub or key (key {data['hub_key_id']}, this hub {key_id(key)})"
    ours = _public_key_b64(signing_key(key))
    if data["public_key"] != ours:
        return False, "the checkpoint's public key is not this hub's signing key"
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(ours)).verify(
            base64.b64decode(data["signature"], validate=True), _message(data))
    except (InvalidSignature, ValueError):
        return False, "the checkpoint's signature does not verify: the file was altered or forged"
    seq, digest = data["seq"], data["hash"]
    last, _ = audit.head(conn)
    if seq == 0:
        return True, f"checkpoint of an empty log ({data['created']})"
    held = audit.entry_at(conn, seq)
    if held is None:
        return False, (f"the checkpoint of {data['created']} records entry {seq}, but the log "
                       f"{'is empty' if last == 0 else f'ends at entry {last}'}: entries were removed")
    if held != digest:
        return False, f"entry {seq} differs from the checkpoint of {data['created']}: the log up to it was rewritten"
    return True, f"entry {seq} matches the checkpoint of {data['created']} ({last - seq} entries since)"
