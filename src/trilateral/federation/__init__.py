"""Federation: each member runs its own node; nodes pull from each other over TAXII 2.1 (docs/federation.md)."""
