"""The quarterly report rendered from a seeded hub: each figure checked against the data it came from,
and each audience shown only what the hub's policy lets it read."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from decimal import Decimal
from pathlib import Path

import lxml.html
import pytest

from tests.conftest import shared_data
from tests.report.seed import ETH, Seed
from trilateral.core.amount import format_units
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub
from trilateral.report import quarterly_report
from trilateral.report.amounts import format_usd
from trilateral.report.figures_intel import about_time
from trilateral.report.incidents import import_incidents_csv
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, parse_time
from trilateral.report.stix import query_all


def cells(doc: lxml.html.HtmlElement, table_id: str) -> list[list[str]]:
    (table,) = doc.xpath(f'//table[@id="{table_id}"]')
    return [[" ".join(" ".join(td.itertext()).split()) for td in tr.xpath("./td")] for tr in table.xpath(".//tr")
            if tr.xpath("./td")]


def row_of(rows: list[list[str]], first: str) -> list[str]:
    (row,) = [r for r in rows if r and r[0] == first]
    return row


@pytest.fixture
def register(hub: Hub, people: dict[str, Principal], seeded: Seed) -> list[dict[str, str]]:
    """The 285 real incidents, submitted by JP as TLP:CLEAR; returns the CSV rows."""
    path = shared_data("dprk_incidents", "incidents.csv")
    import_incidents_csv(hub, people["JP"], path)
    return list(csv.DictReader(path.open(encoding="utf-8")))


def _expected_incidents(rows: list[dict[str, str]], seed: Seed, quarters: list[Quarter]) -> tuple[int, Decimal]:
    labels = {q.label for q in quarters}
    count = sum(1 for r in rows if r["quarter"] in labels)
    usd = sum((Decimal(r["amount_stolen_usd"]) for r in rows if r["quarter"] in labels and r["amount_stolen_usd"]),
              Decimal(0))
    for _, obj in seed.all():
        if obj["type"] == "incident" and Quarter.of(parse_time(obj["x_trilateral_date"])) in quarters:
            count += 1
            usd += Decimal(obj.get("x_trilateral_usd_stolen", 0))
    return count, usd


def test_member_report_figures_match_their_sources(hub: Hub, people: dict[str, Principal], seeded: Seed,
                                                   register: list[dict[str, str]], tmp_path: Path) -> None:
    quarter = Quarter.of(seeded.anchor)
    prices = tmp_path / "prices.csv"
    prices.write_text(f"date,asset,usd\n{quarter.start.date().isoformat()},ETH,3000\n", encoding="utf-8")
    result = quarterly_report(hub, quarter, "US", tmp_path / "us", prices_path=prices, pdf=False)
    doc = lxml.html.fromstring(result.html_path.read_text(encoding="utf-8"))

    # incidents: this quarter and the trailing four, from the register CSV and the seeded incidents
    totals = cells(doc, "incident-totals")
    for label, quarters in ((quarter.label, [quarter]), ("trailing four quarters", quarter.trailing(4))):
        count, usd = _expected_incidents(register, seeded, quarters)
        row = row_of(totals, label)
        assert row[1] == str(count) and row[2] == format_usd(usd)
    sim = row_of([r[1:] for r in cells(doc, "incident-list")], "Simulated exchange hot-wallet theft")
    assert sim[1] == "Lazarus Group" and sim[2] == "85"                      # attributed-to, confidence
    assert sim[3] == f"{format_units(1500 * ETH, 18)} ETH"
    assert sim[4] == format_usd(1500 * 3000) and sim[5] == "prices"          # only from the user's prices
    assert row_of(cells(doc, "stolen-by-asset"), "ethereum")[2] == "1500 ETH"
    assert "ETH " + quarter.start.date().isoformat() + " $3000" in doc.text_content()

    # where the money went: each kind's amount and share of the stolen ETH
    trace = next(o for _, o in seeded.all() if o["type"] == "x-trilateral-trace")
    flow = row_of(cells(doc, "flow-table"), "ethereum")
    stolen = int(trace["stolen"][0]["amount_base_units"])
    for column, kind in enumerate(("dex_swap", "mixer", "bridge", "exchange", "unresolved"), start=3):
        amount = int(trace["flows"][kind][0]["amount_base_units"])
        share = (Decimal(amount) * 100 / stolen).quantize(Decimal("0.1"))
        assert flow[column] == f"{format_units(amount, 18)} ETH ({share} %)"
    usd_line = " ".join(doc.xpath('//p[@id="flow-usd"]')[0].text_content().split())
    mixer_share = (Decimal(int(trace["flows"]["mixer"][0]["amount_base_units"])) * 100 / stolen).quantize(Decimal("0.1"))
    assert f"{format_usd(Decimal(stolen) / ETH * 3000)} followed" in usd_line and f"Mixers {mixer_share} %" in usd_line
    offramps = {(r[0], r[3]) for r in cells(doc, "offramp-table")}
    assert offramps == {(o["category"], f"{format_units(int(o['amount_base_units']), 18)} ETH")
                        for o in trace["offramps"]}

    # freeze requests: per jurisdiction (US reads its AMBER+STRICT request too), amounts, time to first request
    requests = [o for _, o in seeded.all() if o["type"] == "x-trilateral-freeze-request"]
    juris = cells(doc, "freeze-jurisdictions")
    assert sorted(r[0] for r in juris) == sorted(o["jurisdiction"] for o in requests)
    kr = row_of(juris, "KR")
    assert kr[2] == "1" and kr[5] == "1"                                     # one request, partially frozen
    amounts = row_of(cells(doc, "freeze-amounts"), "KR")
    assert amounts[3:] == ["300 ETH", "120 ETH", "40.0 %"]
    first = min(parse_time(o["requested_at"]) for o in requests)
    hours = round((first - parse_time(trace["theft_time"])).total_seconds() / 3600, 1)
    assert doc.xpath('//p[@id="freeze-median"]')[0].text_content().strip() == f"Median: {hours} hours."

    # intel shared: per submitter, objects received this quarter by TLP; sightings; multi-member indicators
    stored = {r.id: r for r in query_all(hub, people["US"], collection=None)}
    in_quarter = [r for r in stored.values() if quarter.contains(about_time(Record.of(r.object, date_added=r.date_added)))
                  and r.object["type"] not in ("marking-definition", "x-trilateral-action", "extension-definition")]
    intel = cells(doc, "intel-submitters")
    for code, n in Counter(r.submitted_by for r in in_quarter).items():
        row = row_of(intel, code)
        assert row[2] == str(n)
        by_tlp = Counter(r.tlp for r in in_quarter if r.submitted_by == code)
        assert row[3:8] == [str(by_tlp.get(level, 0)) for level in Tlp]
    assert row_of(intel, "KR")[8] == "1" and row_of(intel, "JP")[8] == "1"
    by_type = {r[0]: r[-1] for r in cells(doc, "intel-types")}
    assert by_type == {k: str(n) for k, n in Counter(r.object["type"] for r in in_quarter).items()}
    multi = doc.xpath('//p[@id="intel-multi"]')[0].text_content()
    sightings = [r for r in stored.values() if r.object["type"] == "sighting"]
    first_sighting = min(sightings, key=lambda r: parse_time(r.object["first_seen"]))
    delay = max(0.0, (first_sighting.date_added - parse_time(first_sighting.object["first_seen"])).total_seconds())
    assert multi.split()[0] == "1"
    assert f"{statistics.median([round(delay / 3600, 1)])} hours" in multi

    # cross-member correlations: the hub's own list, as US sees it
    correlations = cells(doc, "correlations")
    expected = [c for c in hub.correlations(people["US"]) if quarter.contains(c.created)]
    assert len(expected) >= 1 and len(correlations) == len(expected)
    assert {r[1] for r in correlations} == {c.value for c in expected}
    assert f"{len(expected)} cross-member correlation(s)" in multi

    # techniques and actions
    techniques = {r[0]: r[-1] for r in cells(doc, "technique-table")}
    assert techniques == {"T1566.002 Spearphishing Link": "1", "T1195.002 Compromise Software Supply Chain": "1"}
    actions = {r[1]: r for r in cells(doc, "action-table")}
    assert set(actions) == {o["title"] for _, o in seeded.all() if o["type"] == "x-trilateral-action"}
    assert actions["RED-JP-ONLY-ACTION"][5] == "TLP:RED"                    # addressed to US
    # the document carries its most restrictive content: the RED action addressed to US
    assert result.tlp is Tlp.RED and doc.xpath('//*[@id="doc-tlp"]')[0].text_content() == "TLP:RED"
    assert 'content: "TLP:RED"' in result.html_path.read_text(encoding="utf-8")


def test_kr_client_report_has_no_strict_no_foreign_red_and_no_amber_of_other_members(
        hub: Hub, people: dict[str, Principal], seeded: Seed, tmp_path: Path) -> None:
    quarter = Quarter.of(seeded.anchor)
    result = quarterly_report(hub, quarter, "KR-UPBIT", tmp_path / "kr", pdf=False)
    text = result.html_path.read_text(encoding="utf-8")
    for label, secret in seeded.secrets.items():
        assert secret not in text, label
    unreadable = [o for who, o in seeded.all()
                  if o["object_marking_refs"][0].endswith(("939a9414-2ddd-4d32-a0cd-375ea402b003",
                                                           "e828b379-4e03-4974-9ac4-e53a884c97c1"))
                  or (who != "KR" and o["object_marking_refs"][0].endswith("55d920b0-5e8b-4f79-9ee9-91f868d9b421"))]
    assert all(r.object["id"] not in {o["id"] for o in unreadable} for r in result.sources.records.values())
    assert "Exchange K" not in text                                  # US AMBER trace and requests stay out
    assert all(r.tlp <= Tlp.GREEN for r in result.sources.records.values())
    assert result.tlp is Tlp.GREEN and 'content: "TLP:GREEN"' in text
    assert "Simulated exchange hot-wallet theft" in text             # GREEN incident is for every client
    assert 'id="correlations"' not in text and "0 cross-member correlation(s)" in text  # JP's copy is AMBER


def test_group_report_holds_only_what_every_member_may_read(hub: Hub, people: dict[str, Principal],
                                                            seeded: Seed, tmp_path: Path) -> None:
    result = quarterly_report(hub, Quarter.of(seeded.anchor), "group", tmp_path / "group", pdf=False)
    text = result.html_path.read_text(encoding="utf-8")
    assert seeded.secrets["red"] not in text                        # RED for US only
    assert seeded.secrets["strict-freeze"] in text                  # AMBER+STRICT: all member agencies
    assert result.tlp is Tlp.AMBER_STRICT
    assert "(JP, KR, US)" in text


@pytest.mark.slow
def test_pdf_pages_show_every_chart_non_blank(hub: Hub, people: dict[str, Principal], seeded: Seed,
                                              tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from tests.report.pdfpages import embedded_images, page_texts, render_pages

    result = quarterly_report(hub, Quarter.of(seeded.anchor), "US", tmp_path / "pdf")
    assert result.pdf_path is not None and set(result.charts) == {"incidents", "sankey", "freeze", "intel", "heatmap"}
    images = embedded_images(result.pdf_path)
    assert len(images) == len(result.charts)
    chart_pages = {i.page for i in images}
    pages = render_pages(result.pdf_path, tmp_path / "pages", dpi=40)
    texts = page_texts(result.pdf_path)
    assert len(texts) == len(pages) and all(t.count("TLP:RED") >= 2 for t in texts)   # top and bottom of every page
    for number in chart_pages:
        pixels = np.asarray(Image.open(pages[number - 1]).convert("RGB"), dtype=float)
        body = pixels[int(0.12 * len(pixels)):int(0.88 * len(pixels))]
        saturation = body.max(axis=2) - body.min(axis=2)
        assert body.std() > 20 and (saturation > 60).mean() > 0.01, f"page {number} shows no chart"
    for n, image in enumerate(images):
        pixels = np.asarray(image.image.convert("L"), dtype=float)
        assert pixels.std() > 20, f"image {n} on page {image.page} is blank"
