"""The canonical actor model: one actor per real actor, every alias resolving to it, umbrellas from the data."""

from __future__ import annotations

from trilateral.attribution.actors import ActorCatalog, AttackGroupRecord, build_actors, name_key
from trilateral.refdata.actor_store import build_from, read_misp_galaxy
from trilateral.refdata.attack import load_attack
from trilateral.refdata.register import read_register

from ..conftest import shared_data

LAZARUS = AttackGroupRecord("G0032", "Lazarus Group", ("Lazarus Group", "Diamond Sleet"), True)
APT38 = AttackGroupRecord("G0082", "APT38", ("APT38", "Bluenoroff", "Sapphire Sleet"), True)
CI = AttackGroupRecord("G1052", "Contagious Interview", ("Contagious Interview", "PurpleBravo"), True)
APT28 = AttackGroupRecord("G0007", "APT28", ("APT28", "Fancy Bear"), False)
GALAXY = [
    {"value": "Lazarus Group", "uuid": "u-laz", "meta": {"country": "KP", "synonyms": ["Hidden Cobra", "APT 38", "G0082"]}},
    {"value": "TraderTraitor", "uuid": "u-tt", "meta": {"country": "KP", "synonyms": ["Jade Sleet", "UNC4899"]},
     "related": [{"dest-uuid": "u-laz", "type": "similar"}]},
    {"value": "WageMole", "uuid": "u-wm", "meta": {"country": "KP", "synonyms": ["Famous Chollima", "PurpleBravo"]}},
    {"value": "TA406", "uuid": "u-ta406", "meta": {"country": "KP"}, "related": [{"dest-uuid": "u-wm", "type": "part-of"}]},
]
REGISTER = [("TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)", "G0032"),
            ("SquidSquad/DangerousPassword (Sapphire Sleet, APT38/BlueNoroff-aligned)", "G0082"),
            ("DangerousPassword-adjacent", "G0082"), ("unclustered (marked ❓ in source)", ""),
            ("DPRK IT Workers", "")]


def small() -> ActorCatalog:
    return build_actors([LAZARUS, APT38, CI, APT28], GALAXY, REGISTER)


def test_every_tradertraitor_alias_resolves_to_one_actor_under_the_lazarus_umbrella():
    actors = small()
    names = {actors.resolve(n).id for n in ("TraderTraitor", "jade sleet", "UNC 4899", "Slow Pisces",
                                            "TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)")}
    assert names == {"misp--u-tt"}
    tt = actors.get("misp--u-tt")
    assert tt.name == "TraderTraitor" and tt.dprk
    assert {"Jade Sleet", "UNC4899", "Slow Pisces"} <= set(tt.aliases)
    assert actors.umbrella(tt).name == "Lazarus Group"
    assert {"misp:u-tt", "register:TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)"} <= set(tt.sources)


def test_name_with_attack_id_in_parentheses_resolves_case_and_punctuation_insensitively():
    actors = small()
    assert actors.resolve("Contagious Interview (G1052)").id == "G1052"
    assert actors.resolve("contagious-interview").id == "G1052"
    assert actors.resolve("g1052").id == "G1052"
    assert actors.resolve("APT 38").id == "G0082"
    assert actors.resolve("Subgroup: Bluenoroff").id == "G0082"
    assert actors.resolve("no such actor") is None and actors.resolve("") is None
    assert actors.resolve("Lazarus").id == "G0032" and actors.resolve("APT28 group").id == "G0007"
    assert actors.canonical_name("apt 38") == "APT38"
    assert actors.canonical_name("Someone New") == "Someone New"


def test_galaxy_synonym_naming_another_unit_makes_an_umbrella_not_an_alias():
    actors = small()
    apt38 = actors.get("G0082")
    assert apt38.parent == "G0032"
    assert "APT 38" not in actors.get("G0032").aliases
    assert [u.name for u in actors.units("G0032")] == ["APT38", "TraderTraitor"]
    assert "Hidden Cobra" in actors.get("G0032").aliases


def test_a_new_galaxy_cluster_does_not_swallow_a_unit_sharing_one_synonym():
    actors = small()
    wm = actors.resolve("Famous Chollima")
    assert wm.name == "WageMole" and actors.get("G1052").parent is None
    assert "G1052" in wm.related
    assert actors.resolve("PurpleBravo").id == "G1052"  # the ATT&CK alias keeps its owner
    assert actors.resolve("TA406").parent == wm.id  # part-of


def test_register_clusters_map_to_units_and_unclustered_rows_to_none():
    actors = small()
    assert actors.resolve("DangerousPassword-adjacent").id == "G0082"
    assert "SquidSquad" in actors.get("G0082").aliases
    assert actors.resolve("unclustered (marked ❓ in source)") is None
    it = actors.resolve("DPRK IT Workers")
    assert it.id == "register--dprk-it-workers" and it.country == "KP"
    assert not actors.get("G0007").dprk and actors.get("G0007").country is None


def test_ids_are_stable_across_input_order_and_round_trip_through_json():
    a = small()
    b = build_actors([APT28, CI, APT38, LAZARUS], GALAXY, REGISTER)
    assert [x.id for x in a] == [x.id for x in b]
    again = ActorCatalog.from_json(a.to_json())
    assert again.actors == a.actors
    assert name_key("Lazarus  group!") == "lazarusgroup"


def test_real_attack_galaxy_and_register_build_one_catalogue():
    data = shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json")
    actors = build_from(load_attack(data), read_misp_galaxy(shared_data("misp_galaxy_dprk", "threat-actor_dprk_subset.json")),
                        read_register(shared_data("dprk_incidents", "incidents.csv")))
    tt = actors.resolve("Slow Pisces")
    assert tt.name == "TraderTraitor" and actors.umbrella(tt).id == "G0032"
    assert actors.resolve("Contagious Interview (G1052)").id == "G1052"
    assert actors.resolve("Stolen Pencil").id == "G0094"
    units = {u.name for u in actors.units("G0032")}
    assert {"APT38", "Andariel", "TraderTraitor"} <= units
    for row in read_register(shared_data("dprk_incidents", "incidents.csv")):
        actor = actors.resolve(row.cluster)
        assert (actor is None) == row.cluster.startswith(("unclustered", "no cluster")), row.cluster
