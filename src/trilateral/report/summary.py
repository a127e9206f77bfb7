"""The statistics in brief: sentences generated from the computed figures, never typed numbers."""

from __future__ import annotations

from typing import Any

from trilateral.report.amounts import format_usd
from trilateral.report.figures_flows import STEP_PHRASES, percent


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_sentences(fig: dict[str, Any]) -> list[str]:
    """One short paragraph per section, each only from its figures."""
    out: list[str] = []
    inc, q = fig["incidents"], fig["quarter"].label
    this, trail = inc.this_quarter, inc.trailing
    text = (f"In {q} the hub holds {_plural(this.count, 'DPRK-attributed incident')} "
            f"({_plural(trail.count, 'incident')} in the trailing four quarters).")
    if this.count and (this.usd_source or this.usd_priced):
        text += f" Source-stated losses this quarter total {format_usd(this.usd_source)}"
        if this.usd_priced:
            text += f", plus {format_usd(this.usd_priced)} valued with the user-supplied prices"
        text += "."
    if this.count:
        if this.usd_unknown:
            text += f" {_plural(this.usd_unknown, 'incident')} {'has' if this.usd_unknown == 1 else 'have'} no USD figure."
        largest = max((r for r in inc.rows if r.usd is not None), key=lambda r: r.usd, default=None)
        if largest is not None:
            if largest.confidence is not None or largest.actor != largest.cluster:
                who = "attributed to " + largest.actor + (
                    f" (confidence {largest.confidence})" if largest.confidence is not None else "")
            else:
                who = f"which its source clusters with {largest.actor}"
            text += f" The largest was {largest.name} on {largest.when.date().isoformat()} ({largest.usd_text}), {who}."
    if inc.other_rows:
        text += (f" {_plural(len(inc.other_rows), 'other incident')} of the quarter "
                 f"{'is' if len(inc.other_rows) == 1 else 'are'} not (yet) attributed to a DPRK group.")
    out.append(text)
    flows = fig["flows"]
    if flows.traces:
        sankey = flows.sankey()
        if sankey and sankey["stolen"]:
            parts = [f"{percent(v, sankey['stolen'])} through {STEP_PHRASES.get(k, k)}"
                     for k, v in sorted(sankey["kinds"].items(), key=lambda kv: -kv[1])]
            out.append(f"{_plural(flows.traces, 'traced theft')} this quarter: measured in {sankey['unit']}, "
                       + ", ".join(parts) + ".")
    fr = fig["freeze"]
    if fr.total_requests:
        text = (f"{_plural(fr.total_requests, 'freeze request')} went to exchanges in "
                f"{_plural(len(fr.jurisdictions), 'jurisdiction')}: {fr.statuses.get('frozen', 0)} frozen, "
                f"{fr.statuses.get('partially_frozen', 0)} partially frozen, {fr.statuses.get('refused', 0)} refused, "
                f"{fr.statuses.get('requested', 0)} awaiting an answer.")
        if fr.median_hours_to_first_request is not None:
            text += f" The median time from theft to the first request was {fr.median_hours_to_first_request:g} hours."
        out.append(text)
    intel = fig["intel"]
    text = (f"Members and clients shared {_plural(intel.total_objects, 'object')} visible to this audience, "
            f"including {_plural(intel.total_sightings, 'sighting')}; "
            f"{_plural(len(intel.multi_member_indicators), 'indicator')} {'was' if len(intel.multi_member_indicators) == 1 else 'were'} "
            f"sighted by two or more members and the hub reported {_plural(len(fig['correlations']), 'cross-member correlation')}.")
    if intel.median_hours_first_sighting_to_shared is not None:
        text += (f" The median time from a member's first sighting to the hub sharing it was "
                 f"{intel.median_hours_first_sighting_to_shared:g} hours.")
    out.append(text)
    tech = fig["techniques"]
    if tech.techniques:
        top = tech.techniques[0]
        out.append(f"The most observed ATT&CK technique was {top['label']} ({_plural(top['total'], 'incident')}).")
    act = fig["actions"]
    out.append(f"The action register holds {_plural(len(act.rows), 'action')}: "
               f"{act.counts.get('open', 0) + act.counts.get('in_progress', 0)} open or in progress "
               f"({act.overdue} overdue at quarter end), {act.counts.get('done', 0)} done, "
               f"{act.counts.get('closed', 0)} closed; {act.decided_this_quarter} decided this quarter.")
    return out
