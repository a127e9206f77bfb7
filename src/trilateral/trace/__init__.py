"""Follow the money: taint policies, laundering-step heuristics, findings, freeze requests, STIX export.

`Tracer(store, labels).trace(chain, seeds, TraceOptions(...))` -> TraceResult;
`findings.build_findings(result)` -> the DESIGN.md §4 findings document.
"""

from trilateral.trace.engine import TraceOptions, Tracer, parse_seeds
from trilateral.trace.findings import FINDINGS_SCHEMA, build_findings, explain, explain_text
from trilateral.trace.model import Role, TraceResult
from trilateral.trace.taint import POLICIES

__all__ = ["FINDINGS_SCHEMA", "POLICIES", "Role", "TraceOptions", "TraceResult", "Tracer", "build_findings",
           "explain", "explain_text", "parse_seeds"]
