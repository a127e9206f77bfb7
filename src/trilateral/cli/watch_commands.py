"""`trilateral watch`: follow chain tips for every open case; one line per alert on stdout."""

from __future__ import annotations

import typer


def watch_command(
    rpc: list[str] = typer.Option(..., "--rpc", help="CHAIN=URL of a node (EVM JSON-RPC, or Bitcoin Core for "
                                                     "bitcoin); repeat for more chains."),
    confirmations: int = typer.Option(0, "--confirmations", help="Process a block once this many are on top."),
    from_block: int = typer.Option(None, "--from-block", help="First block on a chain never watched before "
                                                              "(default: the current head)."),
    submit_as: str = typer.Option(None, "--as", help="Member that submits alerts to the hub (default: the first)."),
    poll: float = typer.Option(0.5, "--poll", help="Seconds between polls of the nodes (with --ws: the fallback)."),
    ws: list[str] = typer.Option([], "--ws", help="CHAIN=ws://URL: new heads by eth_subscribe (read at once); "
                                 "polling continues underneath and takes over while the socket is down."),
    once: bool = typer.Option(False, "--once", help="Process what is there, deliver, and exit."),
    midgard: str = typer.Option(None, "--midgard", help="Midgard v2 base URL: link stolen value sent to a bridge "
                                "to its THORChain swap's destination, followed as a linked case on the out chain."),
    traces: bool = typer.Option(False, "--traces", help="EVM: also follow internal value transfers (contract calls "
                                "moving ETH) with trace_block, debug_traceBlockByNumber or debug_traceTransaction, "
                                "whichever the node offers."),
) -> None:
    """Follow every open case live: each block updates the taint state; alerts go to stdout, the hub
    (STIX, TLP:AMBER) and registered webhooks."""
    import sys

    from trilateral.core.chains import chain as chain_named
    from trilateral.core.errors import InputError
    from trilateral.hub import Hub
    from trilateral.watch.bitcoin import BitcoinAdapter
    from trilateral.watch.evm import EvmAdapter
    from trilateral.watch.runner import Watcher

    if confirmations < 0:
        raise InputError("--confirmations must be 0 or more")
    adapters = []
    for spec in rpc:
        chain, sep, url = spec.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise InputError(f"--rpc {spec!r}: use CHAIN=URL, e.g. ethereum=http://127.0.0.1:8545")
        known = chain_named(chain)  # one table of chains: a clear error for a name it does not hold
        if known.address_format == "tron":
            raise InputError("--rpc tron=…: live watching of Tron is not built yet; ingest TronGrid or node dumps "
                             "with `chain ingest --chain tron` and trace them")
        adapters.append(BitcoinAdapter(known.name, url) if known.name == "bitcoin"
                        else EvmAdapter(known.name, url, traces=traces))

    subscriptions = {}
    for spec in ws:
        chain, sep, url = spec.partition("=")
        if not sep or not url.startswith(("ws://", "wss://")) or chain not in {a.chain for a in adapters}:
            raise InputError(f"--ws {spec!r}: use CHAIN=ws://HOST:PORT for a chain given with --rpc")
        subscriptions[chain] = url

    def emit(text: str) -> None:
        print(text, flush=True)

    with Hub.open(create=False) as hub:
        watcher = Watcher(hub, adapters, confirmations=confirmations, from_block=from_block, emit=emit,
                          submit_as=submit_as, ws=subscriptions, midgard=midgard)
        for adapter in adapters:
            adapter.head()  # an unreachable node: one clear error now, not after the status line
        watcher.warm()
        print(f"watching {', '.join(a.chain for a in adapters)} for {len(watcher.store.cases('open'))} open case(s)",
              file=sys.stderr, flush=True)
        watcher.run(poll_seconds=poll, once=once)


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_command)
