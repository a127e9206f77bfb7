"""Fetching a peer collection's pages ahead of storing them, in the peer's order.

Why a thread: a page costs the peer ~20 µs an object to serve, time this node would otherwise
spend waiting. A thread follows the peer's `next` tokens while the caller stores the page before,
and hands each page's raw envelope to a validation worker as soon as it arrives. At most `depth`
pages wait, so memory stays bounded whatever the backlog.

The caller receives, in order, a `Fetched` page or a `Cursor` (the peer refused our `next`: the
round restarts from it), and any error the fetching raised, where it happened in the sequence.
Stopping early (an error while storing) stops the thread and cancels validations not yet started.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from trilateral.federation.client import InvalidNext, Page, PeerCollection, TaxiiPeer
from trilateral.federation.core import Cursor
from trilateral.federation.validation import POOL_MIN_OBJECTS, ValidationPool

_END = object()


@dataclass
class Fetched:
    page: Page
    after: Cursor  # the cursor to save with this page
    validation: Future[Any] | None  # None: validate inline


class Prefetch:
    def __init__(self, client: TaxiiPeer, collection: PeerCollection, cursor: Cursor, page_size: int,
                 hand_over: Callable[[bytes], Future[Any] | None], extra: dict[str, str] | None = None,
                 depth: int = 3) -> None:
        self.client, self.collection, self.cursor, self.page_size = client, collection, cursor, page_size
        self.hand_over = hand_over
        self.extra = extra or {}
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"prefetch-{collection.id}", daemon=True)

    def __enter__(self) -> Prefetch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        while self.thread.is_alive() or not self.queue.empty():
            try:
                item = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, Fetched) and item.validation is not None:
                item.validation.cancel()
        self.thread.join()

    def __iter__(self) -> Iterator[Fetched | Cursor]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: Any) -> bool:
        """Queue `item` unless the consumer stopped; False once it has."""
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        cursor = self.cursor
        try:
            while not self.stopping.is_set():
                try:
                    page = self.client.page(self.collection, {**cursor.params(self.page_size), **self.extra})
                except InvalidNext:
                    cursor = cursor.restart_round()
                    if not self._put(cursor):
                        return
                    continue
                after = cursor.after_page(more=page.more, next_token=page.next_token, last=page.date_added_last)
                # a small page is validated inline, unless workers already run (the writer then never
                # pays the validators' import)
                big = len(page.objects) >= POOL_MIN_OBJECTS or ValidationPool.running()
                validation = self.hand_over(page.raw) if big and page.objects else None
                if not self._put(Fetched(page, after, validation)):
                    if validation is not None:
                        validation.cancel()
                    return
                cursor = after
                if not page.more or not page.next_token:
                    break
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there in sequence
            self._put(exc)
        finally:
            self._put(_END)
