"""Screening: direct hits (sanctions, labels, hub indicators) and indirect exposure of addresses."""

# Exposure makes one pass over every transfer of a chain per hop until nothing grows, so an unbounded
# hop count is a denial of service on long peel chains. One bound for the service, its HTTP API, the
# console and `trilateral screen --hops` (kept here, free of imports, so the CLI can name it cheaply).
MAX_HOPS = 10
