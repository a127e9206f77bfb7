"""List versions: the newest version of a list decides what it lists now.

An entry is one (list, chain, address, entry id — or label text when the list has no ids). Across the
stored versions of its list an entry collapses to one row, taken from the newest version that has it,
with `first_listed` / `last_listed` (oldest and newest version dates that have it), `status`
(`listed` when the list's newest version has it, else `delisted`) and `delisted_on` (the date of the
first version after `last_listed`: the list no longer had it by then). `seen` keeps the version dates
that had it, so a hit can show its whole history.

Vectorised: lists with a single version (the usual case) pass through untouched; rows of lists with
several versions are sorted once by entry key and date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STATUS_FIELDS = [("status", pa.string()), ("first_listed", pa.string()), ("last_listed", pa.string()),
                 ("delisted_on", pa.string()), ("seen", pa.list_(pa.string()))]


def _with_status(table: pa.Table, status: pa.Array, first: pa.Array, last: pa.Array, delisted: pa.Array,
                 seen: pa.Array) -> pa.Table:
    for (name, _), column in zip(STATUS_FIELDS, (status, first, last, delisted, seen), strict=True):
        table = table.append_column(name, column)
    return table


def _single_version(table: pa.Table) -> pa.Table:
    n = table.num_rows
    dates = table.column("list_date").combine_chunks()
    seen = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), pc.fill_null(dates, ""))
    return _with_status(table, pa.array(np.full(n, "listed", dtype=object), pa.string()), dates, dates,
                        pa.nulls(n, pa.string()), seen)


def collapse(table: pa.Table, versions: dict[str, list[str]]) -> pa.Table:
    """`table` (stored label rows, with list_name and list_date) with one row per entry and its status."""
    multi = [name for name, dates in versions.items() if len(dates) > 1]
    if not multi or table.num_rows == 0:
        return _single_version(table)
    in_multi = pc.is_in(table.column("list_name"), value_set=pa.array(multi, pa.string())).fill_null(False)
    plain = _single_version(table.filter(pc.invert(in_multi)))
    rows = table.filter(in_multi)
    dates = pc.fill_null(rows.column("list_date"), "").combine_chunks()
    entry = pc.coalesce(rows.column("entry_id"), rows.column("label"), pa.scalar(""))
    key = pc.binary_join_element_wise(rows.column("list_name"), rows.column("chain"), rows.column("address"),
                                      entry, "\x00").combine_chunks()
    order = pc.sort_indices(pa.table({"k": key, "d": dates}), sort_keys=[("k", "ascending"), ("d", "ascending")])
    sorted_keys = key.take(order)
    sorted_dates = dates.take(order)
    n = len(order)
    change = pc.not_equal(sorted_keys.slice(1), sorted_keys.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, change])
    ends = np.r_[starts[1:], n]
    order_np = order.to_numpy()
    last_rows = order_np[ends - 1]
    first = sorted_dates.take(pa.array(starts))
    last = sorted_dates.take(pa.array(ends - 1))
    seen = pa.ListArray.from_arrays(pa.array(np.r_[starts, n].astype(np.int32)), sorted_dates)
    # per (list, version): is it the list's newest, and which version followed it
    newest, following = {}, {}
    for name in multi:
        ds = versions[name]
        for i, d in enumerate(ds):
            newest[f"{name}\x00{d}"] = i == len(ds) - 1
            following[f"{name}\x00{d}"] = ds[i + 1] if i + 1 < len(ds) else None
    version_keys = list(newest)
    names = rows.column("list_name").take(pa.array(last_rows))
    at = pc.index_in(pc.binary_join_element_wise(names, last, "\x00"),
                     value_set=pa.array(version_keys, pa.string())).to_numpy(zero_copy_only=False)
    is_newest = np.array([newest[k] for k in version_keys], dtype=bool)[at]
    after = np.array([following[k] for k in version_keys], dtype=object)[at]
    status = np.where(is_newest, "listed", "delisted").astype(object)
    delisted_on = pa.array(np.where(is_newest, None, after), pa.string())
    blank = lambda a: pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)  # noqa: E731
    collapsed = _with_status(rows.take(pa.array(last_rows)), pa.array(status, pa.string()), blank(first),
                             blank(last), delisted_on, seen)
    return pa.concat_tables([plain, collapsed])


def history(seen: list[str] | None, dates: list[str], first_listed: str | None) -> tuple[tuple[str, bool], ...]:
    """(version date, listed?) for every version of the list from the entry's first appearance on."""
    have = set(seen or ())
    start = first_listed or ""
    return tuple((d, d in have) for d in dates if d and d >= start)
