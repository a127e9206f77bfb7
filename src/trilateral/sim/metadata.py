"""Side files: GraphSense TagPack and ActorPack (service addresses only), STIX 2.1 incident bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import stix2
import yaml

from trilateral.sim.world import MIXER_POOLS, THORCHAIN_ROUTER, TOKENS, World

CREATOR = "trilateral sim"
SOURCE = "https://example.org/trilateral/sim"
# ATT&CK techniques publicly reported for TraderTraitor / Lazarus cryptocurrency thefts
# (CISA AA22-108A "TraderTraitor", FBI PSA on Bybit 2025, Mandiant/Jamf on JumpCloud 2023, Ronin post-mortem).
TECHNIQUES = (
    ("T1566.002", "Phishing: Spearphishing Link", "Fake recruiter / job-offer links to developers (Ronin, TraderTraitor)."),
    ("T1204.002", "User Execution: Malicious File", "Victim runs a trojanised trading or coding-test application."),
    ("T1195.002", "Compromise Software Supply Chain", "Trojanised software and the Safe{Wallet} front-end (Bybit 2025), JumpCloud (2023)."),
    ("T1059.007", "Command and Scripting Interpreter: JavaScript", "Malicious JavaScript served to signers (Bybit) and Electron apps."),
    ("T1553.002", "Subvert Trust Controls: Code Signing", "TraderTraitor applications signed with developer certificates."),
    ("T1105", "Ingress Tool Transfer", "Second-stage payloads downloaded after the first execution."),
    ("T1078", "Valid Accounts", "Stolen validator/hot-wallet signer keys and cloud credentials used to sign withdrawals."),
    ("T1657", "Financial Theft", "Theft of cryptocurrency from bridges and exchange hot wallets."),
)


def _tag(label: str, address: str, currency: str, category: str, actor: str) -> dict:
    return {"label": label, "address": address, "currency": currency, "category": category,
            "actor": actor, "confidence": "service_data", "source": SOURCE}


def write_labels(out_dir: Path, world: World, lastmod: str) -> int:
    """labels.yaml (tags) and actors.yaml (jurisdictions) for hot wallets, mixers, DEX pools, bridge."""
    tags, actors = [], []
    for ex in world.exchanges:
        tags += [_tag(f"{ex.label} hot wallet", a, "ETH", "exchange", ex.id) for a in ex.eth_hot]
        tags += [_tag(f"{ex.label} hot wallet", a, "BTC", "exchange", ex.id) for a in ex.btc_hot]
        actors.append({"id": ex.id, "label": ex.label, "uri": f"https://{ex.id}.example",
                       "categories": ["exchange"], "jurisdictions": [ex.jurisdiction]})
    for denomination, pool in sorted(MIXER_POOLS.items()):
        tags.append(_tag(f"Tornado.Cash: {denomination / 10**18:g} ETH", pool, "ETH", "mixing_service", "tornadocash"))
    actors.append({"id": "tornadocash", "label": "Tornado Cash", "uri": "https://tornado.cash",
                   "categories": ["mixing_service"], "jurisdictions": []})
    for token in TOKENS[1:]:
        tags.append(_tag(f"SimSwap V2: {token.symbol}/ETH pool", world.dex_pools[token.asset_id], "ETH", "defi_dex",
                         "simswap"))
    actors.append({"id": "simswap", "label": "SimSwap", "uri": "https://simswap.example",
                   "categories": ["defi_dex"], "jurisdictions": []})
    tags += [_tag("THORChain: Router", THORCHAIN_ROUTER, "ETH", "bridge", "thorchain"),
             _tag("THORChain: ETH vault", world.thor_eth_vault, "ETH", "bridge", "thorchain"),
             _tag("THORChain: BTC vault", world.thor_btc_vault, "BTC", "bridge", "thorchain")]
    actors.append({"id": "thorchain", "label": "THORChain", "uri": "https://thorchain.org",
                   "categories": ["bridge", "defi_dex"], "jurisdictions": []})
    header = {"title": f"Trilateral simulation seed {world.seed}: service addresses", "creator": CREATOR,
              "description": "Exchange hot wallets, mixers, DEX pools and bridge contracts of a simulated economy. "
                             "Deposit and thief addresses are deliberately not labelled.",
              "is_public": True, "lastmod": lastmod}
    (out_dir / "labels.yaml").write_text(yaml.safe_dump({**header, "tags": tags}, sort_keys=False))
    actor_header = {**header, "title": f"Trilateral simulation seed {world.seed}: actors"}
    (out_dir / "actors.yaml").write_text(yaml.safe_dump({**actor_header, "actors": actors}, sort_keys=False))
    return len(tags)


def write_incident(out_dir: Path, scenario: str, summary: str, seed: int, theft_time: int,
                   stolen: list[dict]) -> None:
    """A STIX 2.1 bundle: the incident, the ATT&CK techniques observed, and `uses` relationships."""
    when = datetime.fromtimestamp(theft_time, UTC)
    created = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    namespace = f"trilateral-sim:{scenario}:{seed}"
    incident = stix2.Incident(
        id=f"incident--{_uuid(namespace)}", created=created, modified=created,
        name=f"Simulated theft ({scenario}, seed {seed})",
        description=f"{summary} Simulated on {when.date().isoformat()}; see ground_truth.json.",
        allow_custom=True, x_trilateral_date=when.date().isoformat(), x_trilateral_stolen=stolen)
    objects: list = [incident]
    for external_id, name, why in TECHNIQUES:
        pattern = stix2.AttackPattern(
            id=f"attack-pattern--{_uuid('mitre-attack:' + external_id)}", created=created, modified=created,
            name=name, description=why,
            external_references=[{"source_name": "mitre-attack", "external_id": external_id,
                                  "url": f"https://attack.mitre.org/techniques/{external_id.replace('.', '/')}/"}])
        objects.append(pattern)
        objects.append(stix2.Relationship(
            id=f"relationship--{_uuid(namespace + ':uses:' + external_id)}", created=created, modified=created,
            relationship_type="uses", source_ref=incident.id, target_ref=pattern.id))
    bundle = stix2.Bundle(objects=objects, id=f"bundle--{_uuid(namespace + ':bundle')}", allow_custom=True)
    (out_dir / "incident.json").write_bytes(orjson.dumps(orjson.loads(bundle.serialize()), option=orjson.OPT_INDENT_2))


def _uuid(name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))
