"""List versions: the newest version of a list decides what it lists now.

An entry is one (list, chain, address, entry id — or label text when the list has no ids). Across the
stored versions of its list an entry collapses to one row, taken from the newest version that has it,
with `first_listed` / `last_listed` (oldest and newest version dates that have it), `status`
(`listed` when the list's newest version has it, else `delisted`) and `delisted_on` (the date of the
first version after `last_listed`: the list no longer had it by then). `seen` keeps the version dates
that had it, so a hit can show its whole history.

Vectorised: lists with a single version (the usual case) pass through untouched; rows of lists with
several versions get one integer key from their columns' dictionary codes and are sorted once
(numpy) by key and date.
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
    return _with_status(table, pa.repeat(pa.scalar("listed"), n), dates, dates, pa.nulls(n, pa.string()), seen)


def _codes(column: pa.ChunkedArray | pa.Array, values: bool = False):
    """Dictionary codes of a string column (numpy int64) and the dictionary size (or its values)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, (encoded.dictionary if values else len(encoded.dictionary))


def collapse(table: pa.Table, versions: dict[str, list[str]]) -> pa.Table:
    """`table` (stored label rows, with list_name and list_date) with one row per entry and its status."""
    multi = [name for name, dates in versions.items() if len(dates) > 1]
    if not multi or table.num_rows == 0:
        return _single_version(table)
    in_multi = pc.is_in(table.column("list_name"), value_set=pa.array(multi, pa.string())).fill_null(False)
    if pc.all(in_multi).as_py():  # no row to set aside: skip copying the table twice
        plain, rows = None, table
    else:
        plain, rows = _single_version(table.filter(pc.invert(in_multi))), table.filter(in_multi)
    n = rows.num_rows
    # one integer per entry from the columns' dictionary codes (hashing, no string sort), then a numpy sort
    key = np.zeros(n, dtype=np.int64)
    entry = pc.coalesce(rows.column("entry_id"), rows.column("label"), pa.scalar(""))
    for column in (rows.column("list_name"), rows.column("chain"), rows.column("address"), entry):
        codes, size = _codes(column)
        key = key * size + codes
    day_codes, day_values = _codes(pc.fill_null(rows.column("list_date"), ""), values=True)
    rank = np.argsort(np.argsort(day_values.to_numpy(zero_copy_only=False)))  # dictionary code -> date rank
    order = np.lexsort((rank[day_codes], key))
    sorted_keys = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], n]
    last_rows = order[ends - 1]
    sorted_dates = day_values.take(pa.array(day_codes[order]))
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
    is_newest = pa.array(np.array([newest[k] for k in version_keys], dtype=bool)[at])
    status = pc.if_else(is_newest, "listed", "delisted")
    delisted_on = pa.array([following[k] for k in version_keys], pa.string()).take(pa.array(at))
    blank = lambda a: pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)  # noqa: E731
    collapsed = _with_status(rows.take(pa.array(last_rows)), status, blank(first), blank(last), delisted_on, seen)
    return collapsed if plain is None else pa.concat_tables([plain, collapsed])


def history(seen: list[str] | None, dates: list[str], first_listed: str | None) -> tuple[tuple[str, bool], ...]:
    """(version date, listed?) for every version of the list from the entry's first appearance on."""
    have = set(seen or ())
    start = first_listed or ""
    return tuple((d, d in have) for d in dates if d and d >= start)
