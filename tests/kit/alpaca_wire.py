"""Alpaca market-data wire format for the local server: msgpack or JSON frames, fragments.

Follows Alpaca's documented stock stream protocol (v2): arrays of messages, control messages
`success` / `subscription` / `error`. In msgpack (binary frames, asked for with
`Content-Type: application/msgpack`) `t` is a msgpack Timestamp (extension type -1); in JSON
(text frames, the default) `t` is an RFC 3339 string with nanoseconds, e.g.
`2024-03-01T14:30:00.000000123Z`.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from typing import Any, Literal

import msgpack
from aiohttp import web

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


Encoding = Literal["json", "msgpack"]


def rfc3339(ns: int) -> str:
    """Integer ns since the epoch as Alpaca's JSON timestamp (UTC, nine fraction digits)."""
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def _jsonable(v: Any) -> Any:
    if isinstance(v, msgpack.Timestamp):
        return rfc3339(v.to_unix_nano())
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def to_json(msgs: list[dict[str, Any]]) -> str:
    return json.dumps(_jsonable(msgs), separators=(",", ":"))


def encode(msgs: list[dict[str, Any]], encoding: Encoding) -> bytes | str:
    """One frame: bytes (a binary frame) in msgpack, str (a text frame) in JSON."""
    return pack(msgs) if encoding == "msgpack" else to_json(msgs)


def decode_client(data: bytes | str) -> Any:
    """A client message in either encoding (text = JSON; binary = msgpack, or JSON bytes)."""
    if isinstance(data, str):
        return json.loads(data)
    try:
        return unpack(data)
    except Exception:
        return json.loads(data)


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


def fragments(payload: bytes, size: int, text: bool = False) -> bytes:
    """A binary (or text) message split into a first frame and continuation frames of `size`
    bytes."""
    parts = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
    first = 0x1 if text else 0x2
    out = bytearray()
    for k, part in enumerate(parts):
        out += ws_frame(part, first if k == 0 else 0x0, k == len(parts) - 1)
    return bytes(out)


async def send(ws: web.WebSocketResponse, payload: bytes | str, fragment: int = 0) -> int:
    """One server→client message: bytes as a binary frame, str as a text frame; `fragment` > 0
    splits it into frames of that many bytes. Returns 1 if sent, 0 if the socket is closed."""
    if ws.closed:
        return 0
    if fragment:
        data = payload.encode() if isinstance(payload, str) else payload
        raw = fragments(data, fragment, text=isinstance(payload, str))
        ws._writer.transport.write(raw)  # type: ignore[union-attr]
    elif isinstance(payload, str):
        await ws.send_str(payload)
    else:
        await ws.send_bytes(payload)
    return 1
