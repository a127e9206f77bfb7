"""The audit chain's key, kept outside the hub database, and the checkpoint signing key derived from it.

Why a key: a hash chain alone is recomputed by anyone who can write the database (edit an entry,
rehash every later one, and it verifies). With HMAC-SHA256 under a key the database does not hold,
rewriting needs the key too. The key is 32 random bytes, from `TRILATERAL_AUDIT_KEY` (64 hex digits;
for several hosts sharing one PostgreSQL) or else the file `TRILATERAL_HOME/audit.key` (created
mode 0600 on first use; refused if group or others may read it). The database records only a
fingerprint (`audit_key_id`), so opening a hub with a lost or different key is a clear error instead
of a chain that silently stops verifying.

Checkpoints are signed with Ed25519 under a key derived from the audit key (HKDF), so there is one
secret to keep; the public key travels in each checkpoint file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import weakref
from pathlib import Path

import sqlalchemy as sa

from trilateral.core.errors import ConfigurationError
from trilateral.core.settings import Settings

ENV_VAR = "TRILATERAL_AUDIT_KEY"
FILE_NAME = "audit.key"
KEY_ID = "audit_key_id"

_bound: weakref.WeakKeyDictionary[sa.Engine, bytes] = weakref.WeakKeyDictionary()


def key_id(key: bytes) -> str:
    """Public fingerprint of the key (stored in the database and in checkpoints)."""
    return hmac.new(key, b"trilateral audit key id", hashlib.sha256).hexdigest()[:32]


def _parse(text: str, where: str) -> bytes:
    value = text.strip()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigurationError(f"{where}: the audit key must be 64 hexadecimal digits (32 bytes); "
                                 "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'")
    return key


def _read_file(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigurationError(f"{path}: the audit key is readable by others (mode {mode:o}); "
                                 f"run: chmod 600 {path}")
    return _parse(path.read_text(encoding="ascii", errors="replace"), str(path))


def _create_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return _read_file(path)


def load(settings: Settings, *, create: bool) -> bytes | None:
    """The configured key (environment first, then the file); created in the file if `create`."""
    value = settings.extra.get(ENV_VAR) or os.environ.get(ENV_VAR) or None
    if value is not None:
        return _parse(value, ENV_VAR)
    path = settings.home / FILE_NAME
    if path.exists():
        return _read_file(path)
    return _create_file(path) if create else None


def resolve(settings: Settings, engine: sa.Engine) -> bytes:
    """Load (or, for a hub never keyed, create) the key, check it is this hub's, and bind it to `engine`."""
    from trilateral.hub.database import reading, writing
    from trilateral.hub.schema import meta

    with reading(engine) as conn:
        recorded = conn.execute(sa.select(meta.c.value).where(meta.c.key == KEY_ID)).scalar()
    key = load(settings, create=recorded is None)
    if key is None:
        raise ConfigurationError(f"this hub's audit log is keyed but its key is missing: restore "
                                 f"{settings.home / FILE_NAME} (or set {ENV_VAR}); without it the log cannot "
                                 "be verified or extended")
    if recorded is None:
        try:
            with writing(engine) as conn:
                recorded = conn.execute(sa.select(meta.c.value).where(meta.c.key == KEY_ID)).scalar()
                if recorded is None:
                    from trilateral.hub.audit import adopt_legacy

                    adopt_legacy(conn, key)  # entries from before keying stay verifiable
                    conn.execute(meta.insert().values(key=KEY_ID, value=key_id(key)))
                    recorded = key_id(key)
        except sa.exc.IntegrityError:  # a concurrent opener recorded it first
            with reading(engine) as conn:
                recorded = conn.execute(sa.select(meta.c.value).where(meta.c.key == KEY_ID)).scalar()
    if recorded != key_id(key):
        where = ENV_VAR if settings.extra.get(ENV_VAR) or os.environ.get(ENV_VAR) else str(settings.home / FILE_NAME)
        raise ConfigurationError(f"the audit key in {where} is not this hub's (fingerprint {key_id(key)}, the hub "
                                 f"expects {recorded}): point TRILATERAL_HOME or {ENV_VAR} at the hub's key")
    _bound[engine] = key
    return key


def bound_key(engine: sa.Engine) -> bytes:
    """The key `resolve` bound to this engine (every Hub.open binds one)."""
    try:
        return _bound[engine]
    except KeyError:
        raise ConfigurationError("no audit key is bound to this database engine: open the hub with "
                                 "Hub.open()") from None


def signing_key(key: bytes):  # type: ignore[no-untyped-def]
    """The Ed25519 private key for checkpoints, derived from the audit key (HKDF-SHA256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"trilateral audit checkpoint signing key").derive(key)
    return Ed25519PrivateKey.from_private_bytes(seed)
