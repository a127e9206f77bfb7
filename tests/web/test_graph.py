"""The case graph's pure core on hand-built graphs with known answers: merging, depths, aggregation
beyond the budget (amounts conserved exactly), and explanation paths."""

from __future__ import annotations

import random

from trilateral.web.services.graph import Flow, build_graph, decimals_from_offramps, depths, merge, path_to


def chain_of_flows() -> list[Flow]:
    return [Flow("s", "a", "ethereum", "ETH", 10, 1.0), Flow("a", "b", "ethereum", "ETH", 6, 0.5),
            Flow("a", "b", "ethereum", "ETH", 4, 1.0), Flow("b", "x", "ethereum", "ETH", 10, 0.8)]


def test_flows_between_the_same_addresses_merge_with_amount_weighted_confidence() -> None:
    merged = {(f.source, f.target): f for f in merge(chain_of_flows())}
    assert merged[("a", "b")].amount == 10 and merged[("a", "b")].confidence == 0.7


def test_depth_is_the_hop_count_from_the_nearest_seed() -> None:
    assert depths(chain_of_flows(), {"s"}) == {"s": 0, "a": 1, "b": 2, "x": 3}


def test_small_graph_is_drawn_whole_with_roles_and_exact_amounts() -> None:
    g = build_graph(chain_of_flows(), {"s": "seed", "x": "offramp"}, {"x": "Upbit"}, decimals={"ETH": 1})
    assert not g["aggregated"]
    roles = {n["key"]: n["role"] for n in g["nodes"]}
    assert roles == {"s": "seed", "a": "address", "b": "address", "x": "offramp"}
    assert {(e["source"], e["target"]): e["amount"] for e in g["edges"]} == {("s", "a"): "1", ("a", "b"): "1",
                                                                              ("b", "x"): "1"}
    xs = [n["x"] for n in sorted(g["nodes"], key=lambda n: n["depth"])]
    assert xs == sorted(xs) and len(set(xs)) == 4  # seeds left, one column per hop


def test_beyond_the_budget_addresses_cluster_and_no_value_is_lost() -> None:
    rng = random.Random(3)
    flows, layer = [], ["seed"]
    for depth in range(1, 6):
        nxt = [f"d{depth}-{i}" for i in range(400)]
        for target in nxt:
            flows.append(Flow(rng.choice(layer), target, "ethereum", "ETH", rng.randrange(1, 10**20), 0.9))
        layer = nxt
    offramps = {f"d5-{i}": "offramp" for i in range(10)}
    g = build_graph(flows, {"seed": "seed", **offramps}, {}, node_budget=500, edge_budget=1000)
    assert g["aggregated"] and len(g["nodes"]) <= 500
    kept = {n["key"] for n in g["nodes"]}
    assert set(offramps) <= kept and "seed" in kept  # the end points stay individual
    clusters = [n for n in g["nodes"] if n["role"] == "cluster"]
    assert sum(n["count"] for n in clusters) == 2000 - 10
    inside = g["stats"]["flows_inside_clusters"]
    assert sum(e["count"] for e in g["edges"]) + inside == len(flows)
    total = sum(f.amount for f in flows if not (f.source.startswith("d") and f.target.startswith("d")
                                                and f.source not in offramps and f.target not in offramps
                                                and f.source.split("-")[0] == f.target.split("-")[0]))
    assert sum(int(e["amount_base_units"]) for e in g["edges"]) == total


def test_the_explanation_path_is_the_shortest_chain_of_flows_from_a_seed() -> None:
    path = path_to(merge(chain_of_flows()), {"s"}, "x")
    assert [(f.source, f.target) for f in path] == [("s", "a"), ("a", "b"), ("b", "x")]
    assert path_to(chain_of_flows(), {"s"}, "nowhere") == []


def test_decimals_are_read_from_the_findings_amount_pairs() -> None:
    offramps = [{"asset": "ETH", "amount": "12.5", "amount_base_units": "12500000000000000000"},
                {"asset": "BTC", "amount": "0.5", "amount_base_units": "50000000"}]
    assert decimals_from_offramps(offramps) == {"ETH": 18, "BTC": 8}
