"""Attribution: rank canonical actors (ATT&CK + MISP galaxy + incident register) for an incident on its
techniques, software, indicators, victim sector, theft size, year and laundering route, with calibrated
confidence and every piece of evidence weighted."""
