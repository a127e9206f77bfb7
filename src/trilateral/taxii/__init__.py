"""TAXII 2.1 HTTP API over the hub: FastAPI routes that only parse and answer HTTP.

Every read and write goes through `trilateral.hub.Hub`, so the hub's TLP policy decides every response.
"""
