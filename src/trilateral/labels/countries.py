"""Country names as OFAC remarks and FtM data write them -> ISO 3166 alpha-2 (the ones we meet)."""

from __future__ import annotations

COUNTRY_CODES = {
    "korea, north": "KP", "north korea": "KP", "democratic people's republic of korea": "KP", "dprk": "KP",
    "korea, south": "KR", "south korea": "KR", "republic of korea": "KR", "japan": "JP",
    "united states": "US", "iran": "IR", "russia": "RU", "china": "CN", "ukraine": "UA", "syria": "SY",
    "venezuela": "VE", "belarus": "BY", "cambodia": "KH", "hong kong": "HK", "turkey": "TR", "turkiye": "TR",
    "united arab emirates": "AE", "germany": "DE", "netherlands": "NL", "latvia": "LV", "moldova": "MD",
    "pakistan": "PK", "nigeria": "NG", "vietnam": "VN", "thailand": "TH", "united kingdom": "GB",
    "canada": "CA", "czech republic": "CZ", "estonia": "EE", "lebanon": "LB", "mexico": "MX", "seychelles": "SC",
    "singapore": "SG", "india": "IN", "kazakhstan": "KZ", "kyrgyzstan": "KG", "georgia": "GE", "armenia": "AM",
    "burma": "MM", "laos": "LA", "philippines": "PH", "slovakia": "SK", "serbia": "RS", "palestinian": "PS",
    "gaza": "PS", "yemen": "YE", "iraq": "IQ", "afghanistan": "AF", "cuba": "CU", "switzerland": "CH",
}


def country_code(name: str | None) -> str | None:
    """ISO alpha-2 of a country name or code; None when unknown."""
    if not name:
        return None
    text = name.strip().rstrip(".").lower()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRY_CODES.get(text)
