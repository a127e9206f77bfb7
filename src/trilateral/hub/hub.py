"""The Hub: one object in front of the database that every read and write goes through."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.errors import ConfigurationError
from trilateral.core.principal import DEFAULT_MEMBERS, Principal
from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp, tlp2_marking_definition
from trilateral.hub import audit, audit_checkpoint, audit_key, ingest, principals, reads
from trilateral.hub.audit_read import AuditPage
from trilateral.hub.correlation import list_correlations, sighting_counts
from trilateral.hub.database import PlannerStatistics, WalCheckpointer, make_engine, migrate, reading, writing
from trilateral.hub.errors import CollectionNotFound, NotFound, PermissionDenied, StatusNotFound
from trilateral.hub.policy import ObjectMeta, may_read, visible_clause
from trilateral.hub.recipients import RECIPIENTS_EXTENSION_ID, recipients_extension_definition
from trilateral.hub.schema import meta, object_recipients, objects, status_details, statuses
from trilateral.hub.types import (
    AuditVerdict,
    CollectionInfo,
    Correlation,
    PrincipalInfo,
    QueryPage,
    StatusDetail,
    StatusRecord,
    SubmitResult,
    from_micros,
)

SHARED = "shared"


def _shown_url(url: str) -> str:
    """The URL with any password hidden, for error messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: show it as given
        return url

SYSTEM_ACTOR = "system"


class Hub:
    """STIX 2.1 store with the TLP 2.0 policy applied to every read. Open with `Hub.open()`."""

    # Every stored version has its own date_added within a collection (see ingest.store_batch).
    date_added_unique = True

    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._secret: bytes | None = None
        self._checkpointer: WalCheckpointer | None = None
        self.statistics = PlannerStatistics(engine)

    @classmethod
    def open(cls, settings: Settings | None = None, *, create: bool = True, serving: bool = False) -> Hub:
        """Connect and migrate the schema to the newest revision.

        `serving=True` (a long-running server): SQLite WAL checkpoints run in a background thread
        instead of inside whichever request crosses the threshold (see WalCheckpointer).

        With `create=False` (every command but `init`) a missing or uninitialised hub is a one-line
        error telling the user to run `trilateral init`, instead of a silently created empty hub.
        """
        settings = settings or Settings.from_env()
        url = settings.database_url
        shown = _shown_url(url)
        if settings.is_sqlite:
            db_path = sa.engine.make_url(url).database
            if not create and db_path and db_path != ":memory:" and not Path(db_path).exists():
                raise ConfigurationError(f"no Trilateral hub at {db_path}: run `trilateral init` first "
                                         "(or point TRILATERAL_HOME / TRILATERAL_DATABASE_URL at an existing hub)")
            try:
                settings.home.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(f"cannot create the data directory {settings.home} ({exc.strerror}): "
                                         "set TRILATERAL_HOME to a writable directory") from None
        try:
            engine = make_engine(url, wal_autocheckpoint=not (serving and settings.is_sqlite))
            migrate(engine)
        except sa.exc.ArgumentError:
            raise ConfigurationError(f"TRILATERAL_DATABASE_URL {shown!r} is not a database URL: use "
                                     "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE") from None
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise ConfigurationError(f"cannot open the hub database {shown} ({reason}): check "
                                     "TRILATERAL_DATABASE_URL and that the database server is running") from None
        hub = cls(settings, engine)
        try:
            audit_key.resolve(settings, engine)
        except ConfigurationError:
            engine.dispose()
            raise
        if not create and not hub.list_principals():
            hub.close()
            raise ConfigurationError(f"the hub at {shown} has no members yet: run `trilateral init` first")
        if serving and settings.is_sqlite:
            hub._checkpointer = WalCheckpointer(engine)
        hub.statistics.background = serving
        return hub

    def close(self) -> None:
        self.statistics.wait()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- secrets ---------------------------------------------------------------------------------
    @property
    def cursor_secret(self) -> bytes:
        """Server secret for cursor HMACs, created once and kept in the database."""
        if self._secret is None:
            with reading(self.engine) as conn:
                value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "cursor_secret")).scalar()
            if value is None:
                with writing(self.engine) as conn:
                    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "cursor_secret")).scalar()
                    if value is None:
                        value = secrets.token_hex(32)
                        conn.execute(meta.insert().values(key="cursor_secret", value=value))
            self._secret = bytes.fromhex(value)
        return self._secret

    # --- principals ------------------------------------------------------------------------------
    def init(self) -> list[tuple[Principal, str]]:
        """Create US, KR and JP if absent; the tokens of those created now."""
        created = []
        self.cursor_secret  # noqa: B018 - create the secret with the database
        with writing(self.engine) as conn:
            existing = {p.code for p in principals.list_all(conn)}
            for code, name in DEFAULT_MEMBERS:
                if code not in existing:
                    created.append(principals.add(conn, code, name, None, SYSTEM_ACTOR))
        return created

    def add_principal(self, code: str, name: str, client_of: str | None = None) -> tuple[Principal, str]:
        with writing(self.engine) as conn:
            return principals.add(conn, code, name, client_of, SYSTEM_ACTOR)

    def rotate_token(self, code: str) -> str:
        with writing(self.engine) as conn:
            return principals.rotate(conn, code, SYSTEM_ACTOR)

    def revoke(self, code: str) -> None:
        with writing(self.engine) as conn:
            principals.revoke(conn, code, SYSTEM_ACTOR)

    def list_principals(self) -> list[PrincipalInfo]:
        with reading(self.engine) as conn:
            return principals.list_all(conn)

    def authenticate(self, token: str, code: str | None = None) -> Principal:
        with reading(self.engine) as conn:
            return principals.authenticate(conn, token, code)

    def principal(self, code: str) -> Principal:
        with reading(self.engine) as conn:
            return principals.get(conn, code)

    # --- collections -----------------------------------------------------------------------------
    def collections(self, principal: Principal) -> list[CollectionInfo]:
        """`shared` plus `member-<CODE>` per member; every one readable, writable as can_write says."""
        members = [p for p in self.list_principals() if p.kind == "member" and not p.revoked]
        out = [CollectionInfo(SHARED, "Shared", "Every member and client reads and writes; TLP markings "
                              "decide who sees each object.", True, True)]
        for m in members:
            out.append(CollectionInfo(f"member-{m.code}", f"{m.name} ({m.code})",
                                      f"Published by {m.code} and its clients; readable by all subject to "
                                      "TLP markings.", True, principal.member_code == m.code))
        return out

    def collection(self, principal: Principal, collection_id: str) -> CollectionInfo:
        for info in self.collections(principal):
            if info.id == collection_id:
                return info
        raise CollectionNotFound(f"no collection {collection_id!r}: list them with hub.collections()")

    # --- writes ----------------------------------------------------------------------------------
    def submit(self, principal: Principal, payload: bytes | str | dict | list | Path, *, collection: str = SHARED,
               source: str | None = None, progress: Callable[[int, int], None] | None = None,
               json_size: int | None = None) -> SubmitResult:
        """Validate and store; good objects are kept, each bad one is reported with its id and reason.

        `progress(done, total)` is called every 1,000 validated objects (the CLI draws a bar with it).
        `json_size`: bytes of the JSON text a parsed `payload` came from (spares measuring it again).
        """
        if not self.collection(principal, collection).can_write:
            raise PermissionDenied(f"{principal.code} may not write to collection {collection!r}: member "
                                   "collections take objects from their member and its clients only")
        return ingest.submit(self.engine, self.settings, principal, payload, collection, source, progress,
                             self.statistics, json_size)

    def delete(self, principal: Principal, collection: str, object_id: str,
               versions: str | Sequence[str] = ("all",)) -> int:
        """Delete versions the caller may read and submitted (or, for a member, its clients submitted)."""
        self.collection(principal, collection)
        filters = reads.Filters(collection, None, [object_id], None, versions, None)
        o = objects
        owner = o.c.submitter_code == principal.code
        if principal.is_member:
            owner = sa.or_(owner, o.c.submitter_member == principal.code)
        with writing(self.engine) as conn:
            rows = conn.execute(sa.select(o.c.seq, o.c.version).where(*filters.where(principal, o), owner)).all()
            if not rows:
                return 0
            from trilateral.federation import store as federation_store
            from trilateral.federation import tombstones

            node = federation_store.node_code(conn)
            if node is not None:  # a federation node tells its peers (docs/federation.md)
                tombstones.record_deletion(conn, principal, collection, [r.seq for r in rows], node)
            conn.execute(o.delete().where(o.c.seq.in_([r.seq for r in rows])))
            audit.append(conn, principal.code, "object.delete", {"collection": collection, "id": object_id,
                                                                 "versions": sorted(r.version or "" for r in rows)})
        return len(rows)

    # --- reads -----------------------------------------------------------------------------------
    def query(self, principal: Principal, *, collection: str | None = SHARED, added_after: datetime | str | None = None,
              ids: Sequence[str] | None = None, types: Sequence[str] | None = None,
              versions: str | Sequence[str] = ("last",), spec_versions: Sequence[str] | None = None,
              limit: int | None = None, cursor: str | None = None, audit: bool = True,
              skip_origins: Sequence[str] = ()) -> QueryPage:
        """One page of the versions the principal may read (TAXII 2.1 filter semantics).

        `audit=False`: the caller audits what it actually returns (`audit_returned`), e.g. the TAXII
        layer, which may fetch more than it sends (built-ins first, page boundaries)."""
        if collection is not None:
            self.collection(principal, collection)
        filters = reads.Filters(collection, added_after, ids, types, versions, spec_versions)
        filters.skip_origins = tuple(sorted(set(skip_origins)))
        with reading(self.engine) as conn:
            filters.peer = self._peer_view(conn, principal)
            result = reads.query_page(conn, self.cursor_secret, principal, filters, limit, cursor)
        if audit:
            self.audit_returned(principal, result.records, collection)
        return result

    def newest(self, principal: Principal, *, collection: str | None = SHARED,
               added_after: datetime | str | None = None, types: Sequence[str] | None = None,
               limit: int = 50) -> QueryPage:
        """The newest versions (latest version of each object) the principal may read, newest first:
        one page, no cursor (the console's Today; TAXII pages oldest first with `query`)."""
        if collection is not None:
            self.collection(principal, collection)
        filters = reads.Filters(collection, added_after, None, types, ("last",), None)
        with reading(self.engine) as conn:
            filters.peer = self._peer_view(conn, principal)
            result = reads.newest_page(conn, principal, filters, limit)
        self.audit_returned(principal, result.records, collection)
        return result

    def audit_returned(self, principal: Principal, records: Sequence[Any], collection: str | None) -> None:
        """Audit the AMBER+STRICT and RED versions among `records` (exactly what was returned)."""
        stored = [r for r in records if isinstance(getattr(r, "tlp", None), Tlp)]
        self._audit_read(principal, "query", reads.sensitive_ids(stored), collection)

    def manifest(self, principal: Principal, *, collection: str = SHARED, added_after: datetime | str | None = None,
                 ids: Sequence[str] | None = None, types: Sequence[str] | None = None,
                 versions: str | Sequence[str] = ("last",), spec_versions: Sequence[str] | None = None,
                 limit: int | None = None, cursor: str | None = None, skip_origins: Sequence[str] = ()) -> QueryPage:
        """Like query, records are ManifestRecord(id, date_added, version, media_type)."""
        self.collection(principal, collection)
        filters = reads.Filters(collection, added_after, ids, types, versions, spec_versions)
        filters.skip_origins = tuple(sorted(set(skip_origins)))
        with reading(self.engine) as conn:
            filters.peer = self._peer_view(conn, principal)
            return reads.manifest_page(conn, self.cursor_secret, principal, filters, limit, cursor)

    def versions(self, principal: Principal, collection: str, object_id: str, *,
                 added_after: datetime | str | None = None, spec_versions: Sequence[str] | None = None,
                 limit: int | None = None, cursor: str | None = None) -> QueryPage:
        """ManifestRecords of every version of one object the principal may read."""
        return self.manifest(principal, collection=collection, added_after=added_after, ids=[object_id],
                             versions=("all",), spec_versions=spec_versions, limit=limit, cursor=cursor)

    def export(self, principal: Principal, since: datetime | str | None = None) -> dict[str, Any]:
        """A STIX 2.1 bundle of the latest version of every object the principal may read."""
        found: list[dict[str, Any]] = []
        sensitive: list[str] = []
        levels: set[Tlp] = set()
        uses_recipients = False
        cursor = None
        active = tuple(c.id for c in self.collections(principal))  # a revoked member's collection is gone
        while True:
            filters = reads.Filters(None, since, None, None, ("last",), None)
            filters.within = active
            with reading(self.engine) as conn:
                page = reads.query_page(conn, self.cursor_secret, principal, filters, None, cursor)
            for rec in page.records:
                found.append(rec.object)
                levels.add(rec.tlp)
                uses_recipients = uses_recipients or RECIPIENTS_EXTENSION_ID in (rec.object.get("extensions") or {})
            sensitive.extend(reads.sensitive_ids(page.records))
            if not page.more:
                break
            cursor = page.next_cursor
        have = {o["id"] for o in found}
        extra = [tlp2_marking_definition(t) for t in sorted(levels)]
        if uses_recipients:
            extra.append(recipients_extension_definition())
        objects_out = [o for o in extra if o["id"] not in have] + found
        self._audit_read(principal, "export", sensitive, None)
        return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects_out}

    def get_status(self, principal: Principal, status_id: str) -> StatusRecord:
        """The status of a submit, for its submitter and the submitter's member agency only."""
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(statuses).where(statuses.c.id == status_id)).first()
            allowed = row is not None and (row.submitted_by == principal.code or (
                principal.is_member and row.submitter_member == principal.code))
            if not allowed:
                raise StatusNotFound(f"no status {status_id!r} for {principal.code}")
            details = conn.execute(sa.select(status_details).where(status_details.c.status_id == status_id)
                                   .order_by(status_details.c.position)).all()
        own = row.submitted_by == principal.code
        groups: dict[str, list[StatusDetail]] = {"success": [], "failure": []}
        for d in details:
            if not own and not may_read(principal, ObjectMeta(Tlp(d.tlp), row.submitted_by, row.submitter_member,
                                                              frozenset(orjson.loads(d.recipients)))):
                continue
            outcome = "failure" if d.outcome == "failure" else "success"
            groups[outcome].append(StatusDetail(d.stix_id, d.version, d.message))
        pending = row.total_count - len(details)  # details: every processed object, before filtering
        total = len(groups["success"]) + len(groups["failure"]) + pending if not own else row.total_count
        return StatusRecord(id=row.id, status="pending" if pending else "complete",
                            request_timestamp=from_micros(row.created_us), total_count=total,
                            success_count=len(groups["success"]), failure_count=len(groups["failure"]),
                            pending_count=pending, successes=groups["success"], failures=groups["failure"],
                            pendings=[], submitted_by=row.submitted_by, collection=row.collection)

    def sighting_counts(self, principal: Principal, indicator_id: str) -> dict[str, int]:
        with reading(self.engine) as conn:
            return sighting_counts(conn, principal, indicator_id)

    def correlations(self, principal: Principal) -> list[Correlation]:
        with reading(self.engine) as conn:
            found, sensitive = list_correlations(conn, principal)
        self._audit_read(principal, "correlations", sensitive, None)
        return found

    def count_visible(self, principal: Principal, collection: str | None = None) -> int:
        """How many stored versions the principal may read (for dashboards and the demo)."""
        cond = [visible_clause(principal, objects, object_recipients)]
        if collection is not None:
            cond.append(objects.c.collection == collection)
        with reading(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(objects).where(*cond)).scalar() or 0)

    # --- federation ------------------------------------------------------------------------------
    @property
    def node_code(self) -> str | None:
        """The member this hub is the node of (`trilateral init --node`), or None for a shared hub."""
        from trilateral.federation import store as federation_store

        with reading(self.engine) as conn:
            return federation_store.node_code(conn)

    def is_peer(self, principal: Principal) -> bool:
        with reading(self.engine) as conn:
            return self._peer_view(conn, principal) is not None

    def provenance(self, records: Sequence[Any]) -> list[dict[str, str]]:
        """Origin node and original submitter of each record (StoredObject), for a peer's sync."""
        node = self.node_code or ""
        out = []
        for r in records:
            if not getattr(r, "seq", 0):  # a built-in TLP 2.0 definition served by the TAXII layer
                out.append({"origin": node, "submitter": node, "submitter_member": node})
                continue
            out.append({"origin": r.origin or node, "submitter": r.submitted_by,
                        "submitter_member": r.submitter_member})
        return out

    @staticmethod
    def _peer_view(conn: sa.Connection, principal: Principal) -> str | None:
        """The peer code when `principal` is a peer node reading us (it reads for all it hosts)."""
        from trilateral.federation import store as federation_store

        if principal.is_member and principal.code in federation_store.peer_codes(conn):
            return principal.code
        return None

    # --- audit -----------------------------------------------------------------------------------
    def audit_verify(self) -> AuditVerdict:
        with reading(self.engine) as conn:
            return audit.verify(conn)

    def audit_checkpoint(self) -> dict[str, Any]:
        """A signed head of the (verified) audit chain, for a member to keep (see audit_checkpoint)."""
        with reading(self.engine) as conn:
            return audit_checkpoint.make(conn)

    def audit_check_checkpoint(self, checkpoint: dict[str, Any]) -> tuple[bool, str]:
        with reading(self.engine) as conn:
            return audit_checkpoint.check(conn, checkpoint)

    def audit_entries(self, principal: Principal, *, before: int | None = None, limit: int = 50) -> AuditPage:
        """The audit entries of the principal's agency, newest first, with object ids it may not read
        left out (hub/audit_read.py); `before` continues from a page's `older`."""
        from trilateral.hub import audit_read

        codes = audit_read.agency_of(principal, [(p.code, p.sponsor) for p in self.list_principals()])
        with reading(self.engine) as conn:
            return audit_read.entries(conn, principal, codes, before, max(1, min(limit, 500)))

    def _audit_read(self, principal: Principal, action: str, ids: list[str], collection: str | None) -> None:
        if ids:
            with writing(self.engine) as conn:
                audit.append(conn, principal.code, f"read.{action}", {"collection": collection, "ids": ids})


__all__ = ["Hub", "NotFound", "SHARED"]
