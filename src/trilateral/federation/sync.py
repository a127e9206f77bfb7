"""One sync round: pull every readable collection of each peer over TAXII 2.1 into this node.

Each page is stored in one transaction together with the advanced cursor,
so a crash (kill -9) anywhere leaves either the page and its cursor or neither: the next round
resumes exactly after the last stored page, and re-reading a page is harmless (idempotent on
(id, modified)). Pages are stored strictly in the peer's order; while one is stored, the next
ones are already being fetched (`prefetch.py`) and validated in worker processes (`validation.py`),
before and outside the transaction, as in `hub.ingest`.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from trilateral.core.principal import Principal, PrincipalKind
from trilateral.federation import directory, store, tombstones, validation
from trilateral.federation.client import Page, PeerCollection, PeerError, TaxiiPeer
from trilateral.federation.core import TOMBSTONE_TYPE, Cursor, Provenance, Verdict, judge
from trilateral.federation.prefetch import Fetched, Prefetch
from trilateral.hub import ingest
from trilateral.hub.database import reading, writing
from trilateral.hub.hub import SHARED, Hub
from trilateral.hub.reads import SYNCED_FROM
from trilateral.hub.types import SubmitResult, from_micros
from trilateral.taxii.params import SKIP_ORIGINS

log = logging.getLogger("trilateral.federation")
PAGE_SIZE = int(os.environ.get("TRILATERAL_SYNC_PAGE_SIZE", "5000"))


@dataclass
class PeerResult:
    peer: str
    error: str | None = None
    received: int = 0  # versions stored here for the first time
    duplicates: int = 0
    skipped: int = 0  # our own objects, or versions a tombstone deleted
    refused: list[str] = field(default_factory=list)
    deleted: int = 0  # versions removed by the peer's tombstones
    pulled: bool = True  # False: no token for that peer (it reads us; we do not read it)

    @property
    def ok(self) -> bool:
        return self.error is None


def sync_all(hub: Hub, only: str | None = None, page_size: int = PAGE_SIZE,
             progress: Callable[[str, int], None] | None = None) -> list[PeerResult]:
    """Sync with every peer (or `only` that one); each peer's failure is recorded, not raised.
    `progress(peer, n)`: n more objects of that peer's pages were stored (for a progress bar)."""
    with reading(hub.engine) as conn:
        node = store.node_code(conn)
        peers = store.peers(conn, only)
        read_directly = {p.code for p in store.peers(conn) if p.token}
    if node is None:
        raise PeerError("this hub is not a federation node: run `trilateral init --node CODE` first")
    if only is not None and not peers:
        raise PeerError(f"no peer {only} (see `trilateral peer list`)")
    directory.publish(hub, node)
    results = []
    for peer in peers:
        result = PeerResult(peer.code)
        if not peer.token:  # a read-only peer: it pulls from us, we do not pull from it
            results.append(PeerResult(peer.code, pulled=False))
            continue
        try:
            sync_peer(hub, node, peer, result, page_size, progress, skip=read_directly - {peer.code})
        except PeerError as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad peer must not stop the others; the error is kept
            log.exception("sync with %s failed", peer.code)
            result.error = f"{type(exc).__name__}: {exc}"
        with writing(hub.engine) as conn:
            store.record_attempt(conn, peer.code, result.error, result.received)
        results.append(result)
    return results


def sync_peer(hub: Hub, node: str, peer: store.Peer, result: PeerResult, page_size: int = PAGE_SIZE,
              progress: Callable[[str, int], None] | None = None, skip: set[str] | frozenset[str] = frozenset()) -> None:
    """Pull every collection of `peer` we may read. `skip`: the other nodes this node reads directly;
    the peer leaves out what it received from them (each object comes once, from its origin;
    forwarded copies only of origins this node does not read, as in a ring)."""
    extra = {SKIP_ORIGINS: ",".join(sorted(skip))} if skip else {}
    local = {c.id for c in hub.collections(Principal(node, PrincipalKind.MEMBER))}
    with TaxiiPeer(peer.url, node, peer.token) as client:
        for collection in client.collections():
            target = collection.id if collection.id in local else SHARED
            _pull_collection(hub, node, peer.code, client, collection, target, result, page_size, progress, extra)


def _pull_collection(hub: Hub, node: str, peer: str, client: TaxiiPeer, collection: PeerCollection, target: str,
                     result: PeerResult, page_size: int, progress: Callable[[str, int], None] | None,
                     extra: dict[str, str]) -> None:
    with reading(hub.engine) as conn:
        cursor = store.load_cursor(conn, peer, collection.id)

    def hand_over(raw: bytes) -> Future[validation.ValidatedPage] | None:
        return validation.ValidationPool.submit(raw, hub.settings.database_url, target)

    with Prefetch(client, collection, cursor, page_size, hand_over, extra) as pages:
        for item in pages:
            if isinstance(item, Cursor):  # the peer refused our `next`: the round restarts (idempotent)
                with writing(hub.engine) as conn:
                    store.save_cursor(conn, peer, collection.id, item)
                continue
            store_page(hub, node, peer, collection.id, target, item.page, _validated(hub, target, item), item.after,
                       result)
            if progress is not None:
                progress(peer, len(item.page.objects))


def _validated(hub: Hub, collection: str, fetched: Fetched) -> validation.ValidatedPage:
    if fetched.validation is not None:
        try:
            return fetched.validation.result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): this page inline, a new pool later
            validation.ValidationPool.broken()
    items = [o for o in fetched.page.objects if isinstance(o, dict)]
    return validation.validate(items, ingest.known_versions(hub.engine, collection, items))


def apply_page(hub: Hub, node: str, peer: str, cursor_key: str, collection: str, page: Page, after: Cursor,
               result: PeerResult) -> None:
    """Validate (inline) and store one page: what `_pull_collection` does with each page it fetches."""
    items = [o for o in page.objects if isinstance(o, dict)]
    checked = validation.validate(items, ingest.known_versions(hub.engine, collection, items))
    store_page(hub, node, peer, cursor_key, collection, page, checked, after, result)


def store_page(hub: Hub, node: str, peer: str, cursor_key: str, collection: str, page: Page,
               checked: validation.ValidatedPage, after: Cursor, result: PeerResult) -> None:
    """Judge and store one validated page, its provenance and the cursor after it, in one transaction."""
    stated: dict[tuple | None, Provenance] = {}  # a page names a handful of distinct provenances: read each once
    provs = []
    for i, o in enumerate(page.objects):
        if isinstance(o, dict):
            claimed = page.provenance[i] if page.provenance else None
            key = tuple(claimed.get(k) for k in Provenance.KEYS) if isinstance(claimed, dict) else None
            try:
                prov = stated.get(key)  # type: ignore[arg-type]
                if prov is None:
                    prov = stated[key] = Provenance.from_peer(peer, claimed)  # type: ignore[index]
            except TypeError:  # a value that is not hashable (so not valid either): read it alone
                prov = Provenance.from_peer(peer, claimed)
            provs.append(prov)
    with writing(hub.engine) as conn:
        ids = [p.stix_id for p in checked.results if isinstance(p, ingest.Prepared)]
        owners = store.owners(conn, ids)
        dead = store.tombstoned(conn, collection, ids)
        groups: dict[Provenance, list[ingest.Prepared]] = {}
        stones: list[tuple[dict, str]] = []
        entries: list[tuple[dict, str]] = []
        for position, (prov, prep) in enumerate(zip(provs, checked.results, strict=True)):
            if prep is None:
                continue  # the standard TLP definitions: built into every hub
            if isinstance(prep, ingest.Failure):
                result.refused.append(prep.reason)
                continue
            decision = judge(prep.stix_id, prov, peer=peer, node=node, owner=owners.get(prep.stix_id),
                             tombstoned=(prep.stix_id, prep.modified_us) in dead)
            if decision.verdict is Verdict.REFUSED:
                result.refused.append(decision.reason)
                continue
            if decision.verdict is not Verdict.KEEP:
                result.skipped += 1
                continue
            owners.setdefault(prep.stix_id, prov.submitter)
            groups.setdefault(prov, []).append(prep)
            if position in checked.kept:
                obj = checked.kept[position]
                (stones if prep.stix_type == TOMBSTONE_TYPE else entries).append((obj, prov.origin))
        for prov, group in groups.items():
            _store_group(conn, peer, collection, prov, group, result, fresh=checked.fresh)
        for stone, origin in stones:
            result.deleted += tombstones.apply(conn, collection, stone, origin)
        for entry, origin in entries:
            refused = directory.learn(conn, entry, origin)
            if refused:
                result.refused.append(refused)
        store.save_cursor(conn, peer, cursor_key, after)


def _store_group(conn, peer: str, collection: str, prov: Provenance, group: list[ingest.Prepared],  # type: ignore[no-untyped-def]
                 result: PeerResult, fresh: bool = False) -> None:
    """Store versions under their original submitter (so the policy reads them as at their origin),
    with `objects.source` = "federation:<origin>": the one record of where a version came from."""
    if prov.submitter == prov.submitter_member:
        submitter = Principal(prov.submitter, PrincipalKind.MEMBER)
    else:
        submitter = Principal(prov.submitter, PrincipalKind.CLIENT, prov.submitter_member)
    status_id = str(uuid.uuid4())
    stamp = store.now_us()
    ingest.create_status(conn, status_id, submitter, collection, len(group), f'{{"federation": "{peer}"}}')
    outcome = SubmitResult(status_id=status_id, date_added=from_micros(stamp), total=len(group))
    ingest.store_batch(conn, submitter, collection, status_id, SYNCED_FROM + prov.origin, group, outcome,
                       none_stored=fresh, recipients_checked=True)
    result.received += len(outcome.stored)
    result.duplicates += len(outcome.duplicates)
    result.refused.extend(reason for _, reason in outcome.failed)
