"""The freeze letter an exchange or a stablecoin issuer receives: plain language, HTML (and PDF through
WeasyPrint). Evidence steps are the engine's own provenance (`findings.explain`) told as sentences."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

KIND_WORDS = {"exchange": "deposited to", "mixer": "sent into the mixing service at", "bridge":
              "sent to the cross-chain bridge at", "unresolved": "sent to", "transfer": "moved to",
              "dex_swap": "moved to"}


def short(address: str | None) -> str:
    return address if not address or len(address) < 20 else f"{address[:10]}…{address[-6:]}"


def plain_steps(steps: list[dict[str, Any]], victims: set[str]) -> list[str]:
    """One sentence per step; a swap's two legs (same transaction) become one sentence naming both
    assets, and a step where the engine presumed value stolen says so in words."""
    out: list[str] = []
    k = 0
    while k < len(steps):
        s = steps[k]
        nxt = steps[k + 1] if k + 1 < len(steps) else None
        when = (s.get("time") or "").replace("T", " ").replace("Z", " UTC")
        if s["kind"] == "presumed":
            out.append(f"{short(s['from'])} then sent {s['asset']} that the records we hold do not show it "
                       f"receiving. Because it held stolen {s['from_asset']} at that time, we treat this "
                       f"{s['asset']} as coming from the stolen funds.")
        elif s["kind"] == "dex_swap" and nxt is not None and nxt["kind"] == "dex_swap" and \
                nxt["tx_hash"] == s["tx_hash"]:
            out.append(f"On {when}, {short(s['from'])} exchanged {s['amount']} {s['asset']} of stolen funds for "
                       f"{nxt['amount']} {nxt['asset']} through the token-swap service at {short(s['to'])}, and "
                       f"received them at {short(nxt['to'])} (transaction {s['tx_hash']}).")
            k += 1
        elif s["from"] in victims:
            out.append(f"On {when}, {s['amount']} {s['asset']} were taken from the victim's address "
                       f"{short(s['from'])} to {short(s['to'])} (transaction {s['tx_hash']}).")
        else:
            verb = KIND_WORDS.get(s["kind"], "moved to")
            out.append(f"On {when}, {s['amount']} {s['asset']} of stolen funds were {verb} {short(s['to'])} "
                       f"from {short(s['from'])} (transaction {s['tx_hash']}).")
        k += 1
    return out


LETTER = Environment(autoescape=select_autoescape(default=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request to freeze funds: {{ r.exchange }}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.2em .5em;font-size:.9em;text-align:left}code{font-size:.85em}
.box{border:1px solid #999;padding:.5em 1em;margin:1em 0}</style></head><body>
<p><strong>TLP:AMBER</strong>: for you and those in your organisation who need it to act on this request.</p>
<h1>Request to freeze funds{% if r.kind == "issuer" %} in {{ r.exchange }} tokens{% else %} at {{ r.exchange }}{% endif %}</h1>
<div class="box"><strong>From</strong><br>
{% if a %}{{ a.agency }}<br>Contact: {{ a.contact }}<br>Our reference: <code>{{ r.reference }}</code><br>
Legal basis: {{ a.legal_basis }}<br>Please answer by: {{ r.respond_by }} ({{ a.deadline_days }} days)
{% else %}{{ r.routed_to or "No member agency has jurisdiction; sent by the group" }}<br>Our reference:
<code>{{ r.reference }}</code>{% endif %}<br>Date: {{ r.requested_at[:10] }}</div>
<h2>What happened</h2>
<p>{% if i.name %}<strong>{{ i.name }}</strong>. {% endif %}On {{ i.time or "a date not in our records" }},
{% if i.victim %}{{ i.victim }} was robbed{% else %}funds were stolen{% endif %} of
{% for v in i.value %}{{ v.amount }} {{ v.asset }}{% if v.usd %} (about USD {{ v.usd }}){% endif %}{% if not loop.last %}, {% endif %}{% endfor %}.
{% if i.theft_transactions %}The theft is recorded in transaction{{ "s" if i.theft_transactions|length > 1 }}
{% for t in i.theft_transactions %}<code>{{ t }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.{% endif %}</p>
<h2>What we ask</h2>
{% if r.kind == "issuer" %}<p>Part of the stolen funds is held as {{ r.exchange }} tokens at the addresses below, which
no exchange controls. We ask you to freeze (blacklist) these addresses for your token and to tell us the amounts frozen.</p>
{% else %}<p>Part of the stolen funds was paid into the deposit addresses below, which belong to your exchange. We ask
you to freeze the balances credited from these deposits, to keep the records of the accounts they belong to, and to
tell us the amounts frozen.</p>{% endif %}
<table><tr><th>network</th><th>address</th><th>asset</th><th>stolen amount</th>{% if r.has_usd %}<th>about USD</th>{% endif %}
<th>first received</th><th>how sure we are</th></tr>
{% for d in r.deposit_addresses %}<tr><td>{{ d.chain }}</td><td><code>{{ d.address }}</code></td><td>{{ d.asset }}</td>
<td>{{ d.amount }}</td>{% if r.has_usd %}<td>{{ d.usd or "no price" }}</td>{% endif %}<td>{{ d.first_seen }}</td>
<td>{{ (d.confidence * 100)|round|int }} %</td></tr>{% endfor %}
</table>
<h2>How the funds reached these addresses</h2>
<p>Each list below follows the stolen funds step by step. Every step is a public transaction that you can check
on the blockchain.</p>
{% for d in r.deposit_addresses %}{% for p in d.story %}<p><strong>To <code>{{ d.address }}</code>{% if d.story|length > 1 %}, route {{ loop.index }}{% endif %}</strong></p>
<ol>{% for line in p %}<li>{{ line }}</li>{% endfor %}</ol>{% endfor %}{% endfor %}
<p><small>How we counted: when stolen and other funds were mixed at an address, each payment out of it is counted
as stolen in the same proportion as the address's holdings ({{ r.policy_words }}).</small></p>
<p>Please answer to the contact above with the amounts frozen, per address and asset.</p></body></html>
""")

POLICY_WORDS = {"haircut": "the proportional method",
                "fifo": "first in, first out: the oldest funds leave first",
                "poison": "any payment out of an address that received stolen funds counted in full"}


def render_letter(request: dict[str, Any]) -> str:
    return LETTER.render(r=request, a=request.get("authority"), i=request["incident"])
