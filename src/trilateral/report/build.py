"""Assemble the quarterly joint assessment: figures from records, charts, HTML (Jinja2) and PDF (WeasyPrint)."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from trilateral.attribution.actors import ActorCatalog
from trilateral.core.tlp import Tlp
from trilateral.report import charts
from trilateral.report.actions import action_figures
from trilateral.report.amounts import Prices, format_usd
from trilateral.report.assessment import assess
from trilateral.report.dedup import deduplicate
from trilateral.report.figures_flows import STEP_KINDS, STEP_LABELS, flow_figures
from trilateral.report.figures_freeze import STATUSES, freeze_figures, group_by_status
from trilateral.report.figures_incidents import incident_figures, stolen_table
from trilateral.report.figures_intel import intel_figures
from trilateral.report.figures_techniques import technique_figures
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, RecordSet, Sources
from trilateral.report.summary import summary_sentences

TLP_COLOURS = {Tlp.CLEAR: "#FFFFFF", Tlp.GREEN: "#33FF00", Tlp.AMBER: "#FFC000", Tlp.AMBER_STRICT: "#FFC000",
               Tlp.RED: "#FF2B2B"}
MAX_INCIDENT_ROWS = 50
MAX_DELAY_ROWS = 15
CHART_KEYS = ("incidents", "sankey", "freeze", "intel", "heatmap")


@dataclass
class ReportResult:
    html_path: Path
    pdf_path: Path | None
    tlp: Tlp
    figures: dict[str, Any]
    charts: dict[str, Path] = field(default_factory=dict)
    sources: Sources = field(default_factory=Sources)
    seconds: dict[str, float] = field(default_factory=dict)   # per phase, for the benchmark


def compute_figures(records: list[Record], quarter: Quarter, prices: Prices | None = None,
                    correlations: list[dict[str, Any]] | None = None,
                    actors: ActorCatalog | None = None) -> dict[str, Any]:
    """Every figure of the report, from the records only (one incident per theft: `dedup`)."""
    corr = [c for c in correlations or () if quarter.contains(c.get("created"))]
    stored = records if isinstance(records, RecordSet) else RecordSet(records)
    dedup = deduplicate(stored)
    records = dedup.records  # intel counts what members stored (below); every other figure, one per theft
    figures: dict[str, Any] = {
        "quarter": quarter,
        "dedup": dedup,
        "incidents": incident_figures(records, quarter, prices, actors=actors),
        "flows": flow_figures(records, quarter, prices),
        "freeze": freeze_figures(records, quarter),
        "intel": intel_figures(stored, quarter, corr),
        "techniques": technique_figures(records, quarter),
        "actions": action_figures(records, quarter),
        "correlations": corr,
    }
    figures["summary"] = summary_sentences(figures)
    before = quarter.previous()
    previous = {"flows": flow_figures(records, before, prices), "freeze": freeze_figures(records, before),
                "intel": intel_figures(stored, before, [], counts_only=True)}
    figures["assessment"] = assess(figures, previous)
    return figures


def all_sources(figures: dict[str, Any]) -> Sources:
    sources = Sources()
    for key in ("incidents", "flows", "freeze", "intel", "techniques", "actions"):
        sources.extend(figures[key].sources.records.values())
    return sources


def document_tlp(sources: Sources) -> Tlp:
    """FIRST TLP 2.0: a document carries the label of its most restrictive content; CLEAR when all is public."""
    return sources.tlp if sources.tlp is not None else Tlp.CLEAR


def draw_charts(figures: dict[str, Any], chart_dir: Path) -> dict[str, Path]:
    """Only charts with data are drawn; the template says so in words when a chart is absent."""
    out: dict[str, Path] = {}
    inc = figures["incidents"]
    if any(t.count for t in inc.per_quarter):
        out["incidents"] = charts.incidents_trend(
            [t.quarter.label for t in inc.per_quarter], [t.count for t in inc.per_quarter],
            [float(t.usd_total) / 1e6 for t in inc.per_quarter], chart_dir / "incidents.png")
    sankey = figures["flows"].sankey() if figures["flows"].traces else None
    if sankey and sankey["stolen"]:
        out["sankey"] = charts.sankey(sankey["stolen"], sankey["kinds"], sankey["destinations"], sankey["unit"],
                                      chart_dir / "flows.png", STEP_LABELS)
    freeze = figures["freeze"]
    if freeze.total_requests:
        out["freeze"] = charts.stacked_bars(
            [j.jurisdiction for j in freeze.jurisdictions],
            {s.replace("_", " "): v for s, v in group_by_status(freeze).items()},
            "Freeze requests per jurisdiction, by status", "requests", chart_dir / "freeze.png")
    intel = figures["intel"]
    if intel.submitters:
        out["intel"] = charts.stacked_bars(
            [s.code + (" (client)" if s.is_client else "") for s in intel.submitters],
            {level.label: [s.by_tlp.get(level, 0) for s in intel.submitters] for level in Tlp},
            "Objects shared per submitter, by TLP", "objects", chart_dir / "intel.png")
    tech = figures["techniques"]
    if tech.techniques:
        out["heatmap"] = charts.heatmap([t["label"][:60] for t in tech.techniques], tech.months,
                                        [t["months"] for t in tech.techniques],
                                        "Incidents using each technique, by month", chart_dir / "techniques.png")
    return out


def _template_env() -> jinja2.Environment:
    loader = jinja2.PackageLoader("trilateral.report", "templates")
    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(figures: dict[str, Any], chart_files: dict[str, Path], out_dir: Path, audience: str,
                tlp: Tlp, prices: Prices | None, is_group: bool, generated: datetime | None = None) -> str:
    env = _template_env()
    css_text = resources.files("trilateral.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    css = jinja2.Environment(autoescape=False).from_string(css_text).render(
        tlp_label=tlp.label, tlp_colour=TLP_COLOURS[tlp], quarter=html.escape(str(figures["quarter"].label)))
    inc = figures["incidents"]
    incident_rows = inc.rows
    if len(incident_rows) > MAX_INCIDENT_ROWS:
        biggest = sorted(incident_rows, key=lambda r: (r.usd is None, -(r.usd or 0), r.when))[:MAX_INCIDENT_ROWS]
        incident_rows = sorted(biggest, key=lambda r: (r.when, r.name))
    stolen_quarter = stolen_table(inc.this_quarter)
    return env.get_template("report.html.j2").render(
        css=css, quarter=figures["quarter"].label, audience=audience, doc_tlp=tlp, is_group=is_group,
        generated=(generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"), summary=figures["summary"],
        inc=inc, incident_rows=incident_rows, stolen_quarter=stolen_quarter,
        stolen_quarter_map={(r["chain"], r["asset"]): r["text"] for r in stolen_quarter},
        stolen_trailing=stolen_table(inc.trailing), flows=figures["flows"], kinds=STEP_KINDS,
        kind_labels=STEP_LABELS, freeze=figures["freeze"], statuses=STATUSES, intel=figures["intel"],
        tlps=list(Tlp), correlations=figures["correlations"], tech=figures["techniques"],
        actions=figures["actions"], usd=format_usd, max_delay_rows=MAX_DELAY_ROWS, ass=figures["assessment"],
        sankey=figures["flows"].sankey() if figures["flows"].traces else None,
        intel_type_totals={t: sum(s.by_type.get(t, 0) for s in figures["intel"].submitters)
                           for t in figures["intel"].types},
        charts={k: (chart_files[k].relative_to(out_dir).as_posix() if k in chart_files else None)
                for k in CHART_KEYS},
        prices_source=prices.source if prices else "",
        prices_used=sorted((prices.used.values() if prices else []), key=lambda p: (p.asset, p.price_date)),
    )


def write_report(records: list[Record], quarter: Quarter, out_dir: Path, *, audience: str, is_group: bool = False,
                 prices: Prices | None = None, correlations: list[dict[str, Any]] | None = None,
                 pdf: bool = True, actors: ActorCatalog | None = None) -> ReportResult:
    """report.html (+ charts/) and report.pdf in `out_dir` for records the audience may read."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clock, seconds = time.perf_counter(), {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name], clock = now - clock, now

    figures = compute_figures(records, quarter, prices, correlations, actors)
    sources = all_sources(figures)
    tlp = document_tlp(sources)
    lap("figures")
    chart_files = draw_charts(figures, out_dir / "charts")
    lap("charts")
    text = render_html(figures, chart_files, out_dir, audience, tlp, prices, is_group)
    lap("html")
    html_path = out_dir / "report.html"
    tmp = html_path.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(html_path)
    pdf_path = None
    if pdf:
        import weasyprint

        pdf_path = out_dir / "report.pdf"
        tmp_pdf = pdf_path.with_suffix(".pdf.tmp")
        weasyprint.HTML(string=text, base_url=str(out_dir)).write_pdf(str(tmp_pdf))
        tmp_pdf.replace(pdf_path)
    lap("pdf")
    return ReportResult(html_path, pdf_path, tlp, figures, chart_files, sources, seconds)
