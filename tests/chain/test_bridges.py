"""Bridge matching, the pure core: amount less fee, window, decimals per chain, rivals share confidence."""

from __future__ import annotations

from trilateral.chain.bridges import Move, link_row, match

HOLDER = "0x" + "ab" * 20


def _dep(tx: str, time: int, amount: int, *, chain: str = "ethereum", decimals: int = 6, who: str = HOLDER) -> Move:
    return Move(chain, "Portal", tx, time, who, "USDT-0xdac1", "USDT", amount, decimals)


def _rel(tx: str, time: int, amount: int, *, chain: str = "bsc", decimals: int = 18, who: str = HOLDER,
         bridge: str = "Portal") -> Move:
    return Move(chain, bridge, tx, time, who, "USDT-0x55d3", "USDT", amount, decimals)


def test_a_release_less_fee_within_the_window_matches_across_decimals() -> None:
    dep = _dep("d", 1000, 1_000_000_000)  # 1,000 USDT with 6 decimals
    rel = _rel("r", 1300, 999_000_000 * 10**12)  # 999 USDT with 18 decimals: a 10 bps fee
    [(d, r, confidence)] = match([dep], [rel])
    assert (d.tx, r.tx) == ("d", "r") and confidence > 0.9
    row = link_row(d, r, confidence)
    assert (row["in_chain"], row["out_chain"], row["in_amount"], row["out_amount"], row["memo_fee_bps"]) == (
        "ethereum", "bsc", "1000000000", str(999 * 10**18), "10")


def test_no_match_outside_the_fee_the_window_the_bridge_or_before_the_deposit() -> None:
    dep = _dep("d", 1000, 1_000_000_000)
    too_cheap = _rel("fee", 1100, 980_000_000 * 10**12)  # a 2 % fee is beyond the 1 % allowed
    more = _rel("more", 1100, 1_000_000_001 * 10**12)  # more than went in
    late = _rel("late", 1000 + 7 * 3600, 999_000_000 * 10**12)
    early = _rel("early", 900, 999_000_000 * 10**12)
    other = _rel("other", 1100, 999_000_000 * 10**12, bridge="Elsewhere")
    same_chain = _rel("same", 1100, 999_000_000, chain="ethereum", decimals=6)
    assert match([dep], [too_cheap, more, late, early, other, same_chain]) == []


def test_rivals_share_confidence_and_the_better_fit_wins() -> None:
    dep = _dep("d", 1000, 1_000_000_000)
    mine = _rel("mine", 1200, 999_500_000 * 10**12)  # the depositor's own address, 5 bps
    stranger = _rel("stranger", 1200, 999_500_000 * 10**12, who="0x" + "cd" * 20)
    alone = match([dep], [mine])[0][2]
    [(_, r, confidence)] = match([dep], [mine, stranger])
    assert r.tx == "mine" and confidence < alone
    # two releases that fit equally: neither is certain
    twin = _rel("twin", 1200, 999_500_000 * 10**12)
    [(_, _, shared)] = match([dep], [mine, twin])
    assert abs(shared - alone / 2) < 0.01
    # each release is used once: a second, identical deposit takes the other release
    dep2 = _dep("d2", 1000, 1_000_000_000)
    pairs = {(d.tx, r.tx) for d, r, _ in match([dep, dep2], [mine, twin], min_confidence=0.0)}
    assert len(pairs) == 2 and {r for _, r in pairs} == {"mine", "twin"}


def test_real_explorer_labels_give_exchanges_and_bridge_contracts_per_chain(home) -> None:
    """The Etherscan-family scrape (etherscan, bscscan, polygonscan, arbiscan, …) labels exchanges and
    bridges on each EVM chain: the labels per chain the trace and the bridge matching read."""
    from collections import Counter

    from tests.conftest import shared_data
    from trilateral.chain.bridges import bridge_contracts
    from trilateral.labels import LabelStore

    labels = LabelStore()
    labels.import_file(shared_data("etherscan_labels", "evm_address_labels.csv"))
    table = labels.table().to_pylist()
    exchanges = Counter(r["chain"] for r in table if r["category"] == "exchange")
    assert all(exchanges[c] > 0 for c in ("ethereum", "bsc", "polygon", "arbitrum", "optimism", "avalanche"))
    contracts = bridge_contracts(labels, ["ethereum", "bsc", "polygon", "arbitrum"])
    assert sum(1 for c in contracts.values() if c) >= 3
    assert all(a == a.lower() and a.startswith("0x") for c in contracts.values() for a in c)
