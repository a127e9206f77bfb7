"""`refdata update` end to end against a local HTTP server holding real-format files; `refdata import` CLI."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.refdata.test_attack_catalog import TINY, _as_bundle
from trilateral.cli import app
from trilateral.core.settings import Settings
from trilateral.labels import LabelStore
from trilateral.refdata.catalog import load_catalog
from trilateral.refdata.update import OfflineError, update

LABEL_FIXTURES = Path(__file__).parents[1] / "labels" / "fixtures"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path):
    """A local mirror: enterprise-attack.json, SDN_ADVANCED.XML, SDN.CSV and an OpenSanctions FtM file."""
    root = tmp_path / "mirror"
    root.mkdir()
    _as_bundle(TINY, root / "enterprise-attack.json", stix21=True)
    (root / "SDN_ADVANCED.XML").write_bytes((LABEL_FIXTURES / "sdn_advanced_small.xml").read_bytes())
    (root / "SDN.CSV").write_text('36000,"TEST WALLET HOLDER",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
                                  '"Digital Currency Address - XBT 1BoatSLRHtKNngkdXEeobR76b53LETtpyT;"\r\n')
    (root / "entities.ftm.json").write_bytes((LABEL_FIXTURES / "opensanctions_ftm.jsonl").read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"TRILATERAL_ATTACK_URL": f"{base}/enterprise-attack.json",
           "TRILATERAL_OFAC_SDN_XML_URL": f"{base}/SDN_ADVANCED.XML",
           "TRILATERAL_OFAC_SDN_CSV_URL": f"{base}/SDN.CSV",
           "TRILATERAL_OPENSANCTIONS_URL": f"{base}/entities.ftm.json"}
    server.shutdown()


def test_update_fetches_every_source_and_imports_them(home, mirror):
    report = update(env=mirror)
    assert [s["url"] for s in report["sources"]] == list(mirror.values())
    assert [s.get("format") for s in report["sources"]] == [None, "sdn-xml", "sdn-csv", "ftm"]
    assert all(s["labels"] > 0 for s in report["sources"][1:])
    settings = Settings.from_env()
    assert load_catalog(settings).group("G9001").dprk
    labels = LabelStore(settings)
    [ronin] = labels.lookup("ethereum", ["0x098b716b8aaf21512996dc57eb0615e2383e2f96"])
    assert any(lab.source == "OFAC SDN" and "DPRK3" in lab.programs for lab in ronin)
    # SDN.CSV has no date of its own: it is the XML's publication, so one version, nothing delisted
    assert labels.list_versions()["OFAC SDN"] == ["2025-11-19"]
    assert all(lab.status == "listed" for lab in ronin) and report["sources"][2]["list_date"] == "2025-11-19"
    [boat] = labels.lookup("bitcoin", ["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"])
    assert boat and boat[0].programs == ("CYBER2",)


def test_a_missing_file_stops_the_update_before_anything_is_imported(home, mirror):
    broken = {**mirror, "TRILATERAL_OPENSANCTIONS_URL": mirror["TRILATERAL_OPENSANCTIONS_URL"] + ".gone"}
    with pytest.raises(OfflineError, match="HTTP 404"):
        update(env=broken)
    assert not (Settings.from_env().refdata_dir / "attack_catalog.json").exists()
    assert LabelStore().lookup("ethereum", ["0x098b716b8aaf21512996dc57eb0615e2383e2f96"]) == [[]]


def test_refdata_import_cli_summarises_the_profiles(home):
    out = CliRunner().invoke(app, ["refdata", "import", str(TINY), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["groups"] == 3 and doc["dprk_groups"] == ["G0032", "G9001"] and doc["spec_version"] == "2.0"
