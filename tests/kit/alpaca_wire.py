"""Alpaca market-data wire format for the local server: msgpack frames, Timestamp ext, fragments.

Follows Alpaca's documented stock stream protocol (v2): arrays of messages, `t` as a msgpack
Timestamp (extension type -1), control messages `success` / `subscription` / `error`.
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    408: "v2 not enabled",
    409: "insufficient subscription",
    410: "invalid subscribe action",
    500: "internal error",
}


def ts(ns: int) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(ns)


def quote(
    sym: str, bid: float, ask: float, bid_size: float, ask_size: float, ts_ns: int
) -> dict[str, Any]:
    return {
        "T": "q",
        "S": sym,
        "bx": "V",
        "bp": bid,
        "bs": bid_size,
        "ax": "V",
        "ap": ask,
        "as": ask_size,
        "c": ["R"],
        "z": "B",
        "t": ts(ts_ns),
    }


def trade(sym: str, price: float, size: float, ts_ns: int) -> dict[str, Any]:
    return {"T": "t", "S": sym, "i": 1, "x": "V", "p": price, "s": size, "c": ["@"], "z": "B",
            "t": ts(ts_ns)}


def error(code: int) -> dict[str, Any]:
    return {"T": "error", "code": code, "msg": ERRORS.get(code, "error")}


def pack(msgs: list[dict[str, Any]]) -> bytes:
    out: bytes = msgpack.packb(msgs, use_bin_type=True)
    return out


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


def ws_frame(payload: bytes, opcode: int, fin: bool) -> bytes:
    """One unmasked server→client websocket frame (RFC 6455 §5.2)."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 126, n)
    else:
        head = struct.pack("!BBQ", first, 127, n)
    return head + payload


def fragments(payload: bytes, size: int) -> bytes:
    """A binary message split into a first frame and continuation frames of `size` bytes."""
    parts = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
    out = bytearray()
    for k, part in enumerate(parts):
        out += ws_frame(part, 0x2 if k == 0 else 0x0, k == len(parts) - 1)
    return bytes(out)
