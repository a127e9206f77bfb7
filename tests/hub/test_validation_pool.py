"""Parallel validation gives exactly the sequential verdicts, positions and messages, in order."""

from __future__ import annotations

import uuid

import pytest

from trilateral.hub import validation_pool
from trilateral.hub.ingest import prepare

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def mixed_objects(n: int) -> list:
    out: list = []
    for i in range(n):
        stamp = f"2026-02-{1 + i % 28:02d}T00:00:{i % 60:02d}.000Z"
        obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
               "created": stamp, "modified": stamp, "pattern_type": "stix", "valid_from": stamp,
               "pattern": f"[ipv4-addr:value = '10.0.{i // 256 % 256}.{i % 256}']", "object_marking_refs": [GREEN]}
        if i % 7 == 3:
            obj["valid_until"] = "2020-01-01T00:00:00Z"  # rejected by the libraries
        if i % 11 == 5:
            obj["x_custom"] = {"k": i}  # valid, but takes the full check
        if i % 13 == 0:
            obj = f"not an object {i}"
        out.append(obj)
    return out


@pytest.fixture
def one_worker(monkeypatch):
    monkeypatch.setenv("TRILATERAL_VALIDATION_WORKERS", "1")
    validation_pool.shutdown_pool()
    yield
    validation_pool.shutdown_pool()


def test_parallel_prepare_equals_sequential(one_worker):
    items = mixed_objects(2500)
    known = {(items[1]["id"], 0, "x")}
    sequential = [prepare(i, obj, known) for i, obj in enumerate(items)]
    seen: list[tuple[int, int]] = []
    validation_pool.start_pool()
    parallel = validation_pool.prepare_all(items, known, lambda done, total: seen.append((done, total)))
    assert validation_pool._pool is not None  # the pool really ran
    assert parallel == sequential
    assert sum(1 for p in parallel if type(p).__name__ == "Failure") > 300
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (2500, 2500)


def test_small_submissions_and_zero_workers_stay_in_process(monkeypatch):
    validation_pool.shutdown_pool()
    items = mixed_objects(1000)  # below START_POOL_OBJECTS: no pool is started for it
    assert validation_pool.prepare_all(items, None) == [prepare(i, o, None) for i, o in enumerate(items)]
    assert validation_pool._pool is None
    monkeypatch.setenv("TRILATERAL_VALIDATION_WORKERS", "0")
    assert validation_pool.prepare_all(mixed_objects(1000), None)[0] is not None
    assert validation_pool._pool is None
