"""Members and clients: creation, API tokens (random, shown once, stored as a hash), authentication.

Tokens are `secrets.token_urlsafe(32)` (256 random bits). They are stored as their SHA-256: a slow
password hash (bcrypt, scrypt) defends low-entropy secrets against guessing, but guessing a 256-bit
random token is infeasible whatever the hash, and a fast unsalted hash lets the token alone find its
principal through a unique index (Bearer auth) in one lookup. The stored hash is still compared
with `hmac.compare_digest` so timing does not reveal how much of a guess matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import unicodedata

import sqlalchemy as sa

from trilateral.core.errors import AuthenticationError, InputError
from trilateral.core.principal import Principal, PrincipalKind
from trilateral.hub import audit
from trilateral.hub.schema import principals
from trilateral.hub.types import PrincipalInfo, from_micros

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{1,63}$")


class UnknownPrincipal(AuthenticationError):
    """No member or client has this code."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    value = code.strip().upper()
    if not CODE_RE.match(value):
        raise InputError(f"principal code {code!r} is not valid: use 2-64 letters, digits, '-' or '_', "
                         "starting with a letter (e.g. KR or KR-UPBIT)")
    return value


def _principal(row: sa.Row) -> Principal:
    return Principal(row.code, PrincipalKind(row.kind), row.sponsor, row.name)


def info(row: sa.Row) -> PrincipalInfo:
    return PrincipalInfo(code=row.code, name=row.name, kind=row.kind, sponsor=row.sponsor,
                         created=from_micros(row.created_us), revoked=row.revoked_us is not None,
                         token_rotated=from_micros(row.token_rotated_us) if row.token_rotated_us else None)


def get_row(conn: sa.Connection, code: str) -> sa.Row:
    row = conn.execute(sa.select(principals).where(principals.c.code == code.strip().upper())).first()
    if row is None:
        raise UnknownPrincipal(f"unknown principal {code!r}: list them with `trilateral member list`")
    return row


def get(conn: sa.Connection, code: str) -> Principal:
    """An active principal by code (revoked ones, and clients of revoked members, are refused)."""
    row = get_row(conn, code)
    if row.revoked_us is not None:
        raise AuthenticationError(f"principal {row.code} is revoked")
    if row.sponsor is not None and get_row(conn, row.sponsor).revoked_us is not None:
        raise AuthenticationError(f"the sponsoring member of {row.code} is revoked")
    return _principal(row)


def check_name(name: str) -> str:
    """The display name, refused if it holds control or format characters: printed in `member list`
    and reports, a newline or an escape sequence could forge lines (e.g. a fake "US token: ..." line)."""
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise InputError(f"member name {name!r} contains the control character U+{ord(bad):04X}: "
                         "use printable text only")
    if len(name) > 200:
        raise InputError(f"member name is {len(name)} characters long; at most 200 are allowed")
    return name


def add(conn: sa.Connection, code: str, name: str, client_of: str | None, actor: str) -> tuple[Principal, str]:
    code = normalise_code(code)
    name = check_name(name)
    if conn.execute(sa.select(principals.c.id).where(principals.c.code == code)).first():
        raise InputError(f"principal {code} already exists: use `trilateral member rotate-token {code}` "
                         "for a new token")
    sponsor = None
    if client_of:
        sponsor_row = get_row(conn, client_of)
        if sponsor_row.kind != PrincipalKind.MEMBER:
            raise InputError(f"{sponsor_row.code} is a client, not a member: clients are sponsored by members")
        if sponsor_row.revoked_us is not None:
            raise InputError(f"member {sponsor_row.code} is revoked and cannot sponsor clients")
        sponsor = sponsor_row.code
    token = new_token()
    now = time.time_ns() // 1000
    kind = PrincipalKind.CLIENT if sponsor else PrincipalKind.MEMBER
    conn.execute(principals.insert().values(code=code, name=name.strip() or code, kind=str(kind),
                                            sponsor=sponsor, token_hash=token_hash(token), created_us=now))
    audit.append(conn, actor, "principal.add", {"code": code, "kind": str(kind), "sponsor": sponsor})
    return Principal(code, kind, sponsor, name.strip() or code), token


def rotate(conn: sa.Connection, code: str, actor: str) -> str:
    row = get_row(conn, code)
    if row.revoked_us is not None:
        raise InputError(f"{row.code} is revoked; add a new principal instead of rotating its token")
    token = new_token()
    conn.execute(principals.update().where(principals.c.id == row.id)
                 .values(token_hash=token_hash(token), token_rotated_us=time.time_ns() // 1000))
    audit.append(conn, actor, "principal.rotate_token", {"code": row.code})
    return token


def revoke(conn: sa.Connection, code: str, actor: str) -> None:
    row = get_row(conn, code)
    conn.execute(principals.update().where(principals.c.id == row.id)
                 .values(token_hash=None, revoked_us=row.revoked_us or time.time_ns() // 1000))
    audit.append(conn, actor, "principal.revoke", {"code": row.code})


def authenticate(conn: sa.Connection, token: str, code: str | None = None) -> Principal:
    """The principal owning `token` (and named `code`, for Basic auth); AuthenticationError otherwise."""
    if not token:
        raise AuthenticationError("no API token given")
    digest = token_hash(token)
    row = conn.execute(sa.select(principals).where(principals.c.token_hash == digest)).first()
    if row is None or row.revoked_us is not None or row.token_hash is None \
            or not hmac.compare_digest(row.token_hash, digest):
        raise AuthenticationError("invalid or revoked API token")
    if code is not None and not hmac.compare_digest(row.code.encode(), code.strip().upper().encode()):
        raise AuthenticationError("invalid or revoked API token")
    if row.sponsor is not None:
        sponsor = conn.execute(sa.select(principals.c.revoked_us).where(principals.c.code == row.sponsor)).first()
        if sponsor is None or sponsor.revoked_us is not None:
            raise AuthenticationError(f"the sponsoring member of {row.code} is revoked")
    return _principal(row)


def list_all(conn: sa.Connection) -> list[PrincipalInfo]:
    rows = conn.execute(sa.select(principals).order_by(principals.c.kind.desc(), principals.c.code))
    return [info(r) for r in rows]
