"""`trilateral watch` against a real ganache: the scripted laundering raises the expected alerts in
order, delivered to signed webhooks and, as STIX, to the exchange's TAXII client; a reorg retracts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.taxii.conftest import CLIENT_OF_KR, TaxiiServer, running_server
from tests.watch.live import ETH, Receiver, World, ganache, launder, setup_world, write_labels
from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.labels import LabelStore
from trilateral.watch.evm import EvmAdapter
from trilateral.watch.runner import Watcher
from trilateral.watch.store import WatchStore

pytestmark = pytest.mark.ganache


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TaxiiServer, Settings]]:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'hub.sqlite3'}"
    monkeypatch.setenv("TRILATERAL_HOME", str(home))
    monkeypatch.setenv("TRILATERAL_DATABASE_URL", url)
    with running_server(url, home, tmp_path) as server:
        yield server, Settings.from_env()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A fresh hub on SQLite, and on PostgreSQL when TRILATERAL_TEST_DATABASE_URL is set."""
    with Hub.open(Settings.from_env()) as hub:
        hub.init()
    return Settings.from_env()


def open_case(settings: Settings, w: World, tmp: Path) -> int:
    store = LabelStore(settings)
    for path in write_labels(w, tmp):
        store.import_file(path)
    with Hub.open(settings) as hub:
        return WatchStore(hub.engine).open_case("scripted", "ethereum", "haircut", [w.a["thief"]], [], None)


def test_scripted_laundering_alerts_in_order_delivered_and_readable_over_taxii(env, tmp_path: Path) -> None:
    server, settings = env
    receiver = Receiver()
    with ganache() as node:
        w = setup_world(node)
        case_id = open_case(settings, w, tmp_path)
        with Hub.open(settings) as hub:
            _, other_token = hub.add_principal("JP-BITFLYER", "bitFlyer", client_of="JP")
            store = WatchStore(hub.engine)
            receiver.secrets = {"upbit": store.add_webhook(CLIENT_OF_KR, receiver.url("upbit")),
                                "us": store.add_webhook("US", receiver.url("us"))}
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        expected = launder(w)
        lines: list[str] = []
        with Hub.open(settings) as hub:
            Watcher(hub, [EvmAdapter("ethereum", node.url)], from_block=start, emit=lines.append,
                    submit_as="US").run(once=True)
            alerts = WatchStore(hub.engine).alerts_of(case_id)
            counts = WatchStore(hub.engine).outbox_counts()
    receiver.close()
    assert [(a["kind"], a["address"], int(a["amount_base_units"])) for a in alerts] == expected
    assert len(lines) == len(expected) and all(a["id"] in line for a, line in zip(alerts, lines, strict=True))
    assert counts == {"delivered": len(expected) * 2 + 1}  # hub + US for each, and Upbit for its deposit

    deposit = alerts[0]
    assert (deposit["entity"], deposit["jurisdiction"], deposit["hot_wallet"]) == ("Upbit", "KR", w.a["hot"])
    assert deposit["recipients"] == ["KR", CLIENT_OF_KR]
    freeze = deposit["freeze_request"]
    assert freeze["exchange"] == "Upbit" and freeze["routed_to"] == "KR"
    [dep] = freeze["deposit_addresses"]
    assert (dep["address"], dep["amount_base_units"]) == (w.a["deposit"], str(3 * ETH))
    path = dep["evidence"][0]["steps"]
    assert [s["from"] for s in path] == [w.a["thief"], w.a["hop1"], w.a["hop2"]]
    assert alerts[2]["confidence"] == 0.5  # the pool held one other deposit: a 1-in-2 link

    by_path = {p: [a for a in receiver.accepted if a["path"] == f"/{p}"] for p in ("upbit", "us")}
    assert [a["id"] for a in by_path["upbit"]] == [deposit["id"]]
    assert [a["id"] for a in by_path["us"]] == [a["id"] for a in alerts]
    assert receiver.rejected == 0 and receiver.duplicates == 0

    seen = server.collection(CLIENT_OF_KR).get_objects(type="x-trilateral-watch-alert")["objects"]
    assert [o["alert_id"] for o in seen] == [deposit["id"]]  # addressed to Upbit: the others are members-only
    assert any(o["type"] == "x-trilateral-freeze-request" for o in
               server.collection(CLIENT_OF_KR).get_objects()["objects"])
    assert len(server.collection("JP").get_objects(type="x-trilateral-watch-alert")["objects"]) == len(expected)
    server.tokens["JP-BITFLYER"] = other_token  # a client of a member that neither submitted nor is addressed
    assert server.collection("JP-BITFLYER").get_objects(type="x-trilateral-watch-alert").get("objects", []) == []


def test_reorg_by_evm_revert_retracts_the_alert_and_restores_the_taint(settings: Settings, tmp_path: Path) -> None:
    with ganache() as node:
        w = setup_world(node)
        case_id = open_case(settings, w, tmp_path)
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        w.send("thief", "hop1", 10 * ETH)
        w.send("hop1", "deposit", 4 * ETH)
        snapshot = node.rpc("evm_snapshot")
        w.send("deposit", "hot", 4 * ETH)
        lines: list[str] = []
        receiver = Receiver()
        with Hub.open(settings) as hub:
            receiver.secrets = {"us": WatchStore(hub.engine).add_webhook("US", receiver.url("us"))}
            watcher = Watcher(hub, [EvmAdapter("ethereum", node.url)], from_block=start, emit=lines.append)
            watcher.poll()
            assert [ln.split()[0] for ln in lines] == ["exchange_deposit"]
            watcher.lanes[0].run_once()  # the webhook lane
            holding = watcher.core.cases[case_id].holdings()
            assert (w.a["deposit"], "ETH") not in holding
            assert node.rpc("evm_revert", snapshot) is True
            w.send("trader", "deployer", ETH)  # the other branch: same height, another block
            w.send("trader", "deployer", ETH)
            watcher.poll()
            assert lines[1].startswith("RETRACTED exchange_deposit") and len(lines) == 2
            assert watcher.core.cases[case_id].holdings()[(w.a["deposit"], "ETH")] == 4 * ETH
            store = WatchStore(hub.engine)
            [alert] = store.alerts_of(case_id)
            assert alert["retracted"]
            watcher.lanes[0].run_once()
            assert [(a["event"], a["id"]) for a in receiver.accepted] == \
                [("alert.raised", alert["id"]), ("alert.retracted", alert["id"])]
            # a fresh process reads the same state back from the database
            again = Watcher(hub, [EvmAdapter("ethereum", node.url)], from_block=start, emit=lines.append)
            again.sync_cases()
            assert again.core.cases[case_id].holdings() == watcher.core.cases[case_id].holdings()
            w.send("deposit", "hot", 4 * ETH)  # the sweep happens again on the new branch: a new alert
            again.poll()
            assert lines[-1].startswith("exchange_deposit") and len(lines) == 3
    receiver.close()


def test_confirmations_hold_a_block_back_until_buried(settings: Settings, tmp_path: Path) -> None:
    with ganache() as node:
        w = setup_world(node)
        open_case(settings, w, tmp_path)
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        w.send("thief", "hop1", 10 * ETH)
        w.send("hop1", "hot", ETH)
        lines: list[str] = []
        with Hub.open(settings) as hub:
            watcher = Watcher(hub, [EvmAdapter("ethereum", node.url)], confirmations=2, from_block=start,
                              emit=lines.append)
            watcher.poll()
            assert lines == [] and WatchStore(hub.engine).cursor("ethereum") is None  # head - 2 < start
            w.send("trader", "deployer", ETH)
            watcher.poll()
            assert lines == []  # one block on top of the payment: not yet
            w.send("trader", "deployer", ETH)
            watcher.poll()
            assert [ln.split()[0] for ln in lines] == ["exchange_deposit"]  # hop1 paid only Upbit so far
