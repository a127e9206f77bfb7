"""Administration's audit log: read-only, the agency's own entries, object ids it may not read left
out; the verification button finds an edited entry."""

from __future__ import annotations

import sqlalchemy as sa

from tests.hub.conftest import bundle, indicator
from tests.web.conftest import sign_in
from trilateral.core.tlp import Tlp
from trilateral.hub.schema import audit_log


def test_a_member_reads_its_agencys_entries_without_ids_it_may_not_read(app_client, console_hub) -> None:
    hub, tokens = console_hub
    for_client = indicator("203.0.113.30", Tlp.RED, recipients=["KR-UPBIT"], name="red to upbit")
    shared = indicator("203.0.113.31", Tlp.AMBER_STRICT, name="strict jp")
    hub.submit(hub.principal("JP"), bundle(for_client, shared))
    hub.query(hub.principal("KR-UPBIT"), collection=None)  # a sensitive read by KR's client: audited
    hub.query(hub.principal("KR"), collection=None)  # and one by KR itself (reads the AMBER+STRICT one)
    hub.rotate_token("KR-UPBIT")
    sign_in(app_client, "KR", tokens["KR"])
    data = app_client.get("/api/console/audit").json()
    actors = {e["actor"] for e in data["entries"]}
    assert actors <= {"KR", "KR-UPBIT", "KR-GONE", "system"} and {"KR", "KR-UPBIT"} <= actors
    assert not any(e["actor"] == "JP" for e in data["entries"])  # JP's submit is JP's business
    client_read = next(e for e in data["entries"] if e["actor"] == "KR-UPBIT" and e["action"] == "read.query")
    assert client_read["hidden_ids"] == 1 and not client_read["detail"]["ids"]  # RED to KR-UPBIT only
    own_read = next(e for e in data["entries"] if e["actor"] == "KR" and e["action"] == "read.query")
    assert [i.split("|")[0] for i in own_read["detail"]["ids"]] == [shared["id"]]
    assert any(e["action"] == "principal.rotate_token" and e["detail"]["code"] == "KR-UPBIT" for e in data["entries"])
    html = app_client.get("/admin").text + app_client.get("/admin/audit").text
    assert "principal.rotate_token" in html and for_client["id"] not in html and shared["id"] in html
    assert "1 object you may not read" in html
    seqs = [e["seq"] for e in data["entries"]]
    assert seqs == sorted(seqs, reverse=True)
    older = app_client.get("/api/console/audit", params={"before": seqs[1]}).json()["entries"]
    assert [e["seq"] for e in older][:len(seqs) - 2] == seqs[2:]


def test_clients_have_no_audit_view(app_client, console_hub) -> None:
    _, tokens = console_hub
    sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    assert app_client.get("/admin/audit").status_code == 403
    assert app_client.get("/api/console/audit").status_code == 403


def test_the_verify_button_names_an_edited_entry(app_client, console_hub) -> None:
    hub, tokens = console_hub
    csrf = sign_in(app_client, "US", tokens["US"])
    ok = app_client.post("/admin/verify", data={"csrf": csrf}).text
    assert "Intact" in ok
    with hub.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="JP"))
    broken = app_client.post("/admin/verify", data={"csrf": csrf}).text
    assert "BROKEN" in broken and "entry 2" in broken  # the first bad entry is named
