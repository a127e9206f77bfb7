"""Attribution: score ATT&CK intrusion sets against an incident's techniques, software and indicators."""
