"""Cases from files: the graph starts at the seed addresses, or, for seeds given as transactions, at
the addresses the evidence paths start from; end points no path reaches get a summary edge."""

from __future__ import annotations

import json

from tests.web.conftest import write_case
from trilateral.web.services.cases import case_graph, explain_address, load_case


def test_a_case_seeded_by_transaction_starts_its_graph_at_the_sending_address(tmp_path) -> None:
    case_dir = write_case(tmp_path, "by-tx")
    findings = json.loads((case_dir / "findings.json").read_text())
    findings["seeds"] = [{"chain": "ethereum", "tx_hash": "0x" + "9" * 64}]
    (case_dir / "findings.json").write_text(json.dumps(findings))
    case = load_case(case_dir / "findings.json")
    graph = case_graph(case)
    roles = {n["key"]: n["role"] for n in graph["nodes"]}
    assert roles["0x" + "a" * 40] == "seed" and "0x" + "9" * 64 not in roles
    assert {n["key"]: n["depth"] for n in graph["nodes"]}["0x" + "c" * 40] == 2
    holding = next(e for e in graph["edges"] if e["target"] == "0x" + "d" * 40)
    assert holding["source"] == "0x" + "a" * 40 and holding["amount"] == "0.5"
    why = explain_address(case, "0x" + "d" * 40)
    assert why["role"] == "holding" and why["paths"][0]["hops"] == 1
