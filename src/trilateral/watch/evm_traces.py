"""Internal value transfers (contract calls that move ETH) for the live watch, from whichever tracing
the node offers: Parity/Erigon `trace_block`, Geth `debug_traceBlockByNumber` with the call tracer,
or `debug_traceTransaction` per transaction (Geth's call tracer, or the struct logs ganache gives).

Without them a contract that forwards stolen ETH hides where it went; with them the forward is a
`Transfer` of the transaction like any other (the core's rules apply unchanged). Only successful
calls with value count: a reverted frame undoes its own and its children's transfers.
"""

from __future__ import annotations

from typing import Any

from trilateral.chain.rpc import RpcClient
from trilateral.core.errors import InputError
from trilateral.watch.model import Transfer

METHODS = ("trace_block", "debug_traceBlockByNumber", "debug_traceTransaction")
TRACER = {"tracer": "callTracer", "disableStorage": True, "disableMemory": True}
VALUE_CALLS = ("CALL", "CALLCODE")  # CALLCODE's value stays with the caller (moves nothing)


def _int(value: Any) -> int:
    if value is None or value == "":
        return 0
    return int(value, 16) if isinstance(value, str) else int(value)


def from_parity(traces: list[dict], native: str) -> dict[str, list[Transfer]]:
    """`trace_block` answer -> internal transfers per transaction (depth > 0, value > 0, no error in
    the frame or any frame above it)."""
    failed: set[tuple[str, tuple[int, ...]]] = set()
    out: dict[str, list[Transfer]] = {}
    for t in traces:
        tx, addr = t.get("transactionHash"), tuple(t.get("traceAddress") or ())
        if tx is None:  # block and uncle rewards
            continue
        if t.get("error") or any((tx, addr[:i]) in failed for i in range(len(addr))):
            failed.add((tx, addr))
            continue
        action = t.get("action") or {}
        kind = t.get("type")
        value = _int(action.get("value"))
        if not addr or value <= 0 or kind not in ("call", "create") or action.get("callType", "call") != "call" \
                and kind == "call":
            continue
        to = action.get("to") if kind == "call" else (t.get("result") or {}).get("address")
        if to:
            out.setdefault(tx, []).append(Transfer(tx, action["from"].lower(), to.lower(), native, value))
    return out


def from_call_frame(frame: dict, tx: str, native: str) -> list[Transfer]:
    """Geth call tracer frame (nested `calls`) -> internal transfers below the top frame."""
    out: list[Transfer] = []

    def walk(f: dict, depth: int) -> None:
        if f.get("error"):
            return  # reverted: nothing below it happened
        value = _int(f.get("value"))
        if depth and value > 0 and f.get("type", "CALL").upper() in ("CALL", "CREATE", "CREATE2") and f.get("to"):
            out.append(Transfer(tx, f["from"].lower(), f["to"].lower(), native, value))
        for child in f.get("calls") or ():
            walk(child, depth + 1)

    walk(frame, 0)
    return out


def from_struct_logs(steps: list[dict], tx: str, to: str, native: str) -> list[Transfer]:
    """Opcode struct logs (ganache, Geth's default tracer) -> internal transfers. A CALL's frame is
    open until execution is back at the caller's depth, whose stack top is then the call's success
    flag; transfers of a failed frame and of its children are dropped."""
    context = {1: to.lower()}
    open_calls: list[tuple[int, Transfer | None, list[Transfer]]] = []  # (depth, transfer, children's)
    done: list[Transfer] = []
    for step in steps:
        depth = step["depth"]
        while open_calls and depth <= open_calls[-1][0]:  # back at (or below) the caller: the call returned
            call_depth, transfer, children = open_calls.pop()
            stack = step.get("stack") or []
            # at the caller's depth the stack top is the success flag; below it the caller itself ended
            # (an implicit STOP right after the call), which it could not have done had the call failed
            if depth < call_depth or (stack and int(stack[-1], 16) != 0):
                (open_calls[-1][2] if open_calls else done).extend(([transfer] if transfer else []) + children)
        op, stack = step.get("op"), step.get("stack") or []
        if op in ("CALL", "CALLCODE", "DELEGATECALL", "STATICCALL") and len(stack) >= 3:
            target = "0x" + stack[-2][-40:]
            here = context.get(depth, to.lower())
            context[depth + 1] = here if op in ("CALLCODE", "DELEGATECALL") else target
            value = int(stack[-3], 16) if op in VALUE_CALLS else 0
            transfer = Transfer(tx, here, target, native, value) if op == "CALL" and value > 0 else None
            open_calls.append((depth, transfer, []))
    for _, transfer, children in reversed(open_calls):  # the trace ended inside calls: the tx succeeded
        done.extend(([transfer] if transfer else []) + children)
    return done


class TraceSource:
    """Picks the first tracing method the node answers and reads a block range's internal transfers."""

    def __init__(self, client: RpcClient, native: str) -> None:
        self.client = client
        self.native = native
        self.method: str | None = None

    def _probe(self, block: dict) -> None:
        number = block["number"]
        tx = next((t for t in block["transactions"] if (t.get("input") or "0x") != "0x"), None)
        for method in METHODS:
            params: list[Any] = [number] if method == "trace_block" else \
                [number, TRACER] if method == "debug_traceBlockByNumber" else [tx["hash"] if tx else None, TRACER]
            if method == "debug_traceTransaction" and tx is None:
                return  # nothing to probe with yet: decide on a block with a contract call
            try:
                self.client.call(method, *params)
            except InputError:
                continue
            self.method = method
            return
        raise InputError(f"node {self.client.url} offers no tracing ({', '.join(METHODS)}): run watch without "
                         "--traces, or point it at an archive/tracing node (Erigon, Reth, Geth with debug)")

    def internal(self, blocks: list[dict]) -> dict[str, list[Transfer]]:
        """tx hash -> internal value transfers, for the given raw blocks (full transactions)."""
        if self.method is None:
            for b in blocks:
                self._probe(b)
                if self.method:
                    break
            if self.method is None:
                return {}
        if self.method == "trace_block":
            answers = self.client.batch([("trace_block", [b["number"]]) for b in blocks])
            out: dict[str, list[Transfer]] = {}
            for traces in answers:
                out.update(from_parity(traces or [], self.native))
            return out
        if self.method == "debug_traceBlockByNumber":
            answers = self.client.batch([("debug_traceBlockByNumber", [b["number"], TRACER]) for b in blocks])
            out = {}
            for b, results in zip(blocks, answers, strict=True):
                for tx, r in zip(b["transactions"], results or [], strict=False):
                    moved = from_call_frame(r.get("result", r), tx["hash"], self.native)
                    if moved:
                        out[tx["hash"]] = moved
            return out
        calls = [tx for b in blocks for tx in b["transactions"] if (tx.get("input") or "0x") != "0x" and tx.get("to")]
        answers = self.client.batch([("debug_traceTransaction", [tx["hash"], TRACER]) for tx in calls])
        out = {}
        for tx, r in zip(calls, answers, strict=True):
            if not r or r.get("failed") or r.get("error"):
                continue
            moved = from_struct_logs(r["structLogs"], tx["hash"], tx["to"], self.native) if "structLogs" in r \
                else from_call_frame(r, tx["hash"], self.native)
            if moved:
                out[tx["hash"]] = moved
        return out
