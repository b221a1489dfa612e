"""Alpaca market data in JSON (text frames): what the stream speaks unless msgpack is asked for.

Same messages as msgpack, but `t` is RFC 3339 text with up to nine fraction digits, in UTC
(`2024-03-01T14:30:00.000000123Z`). A whole frame's timestamps are parsed by numpy at once; an
offset form (`+00:00`) or a malformed one falls back to `parse_ns` per quote.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import numpy as np

_NS_MAX = 2**63 - 1


class JsonQuote(msgspec.Struct, tag_field="T", tag="q"):
    S: str
    bp: float
    ap: float
    bs: float
    as_: float = msgspec.field(name="as")
    t: str = ""


def _zulu(t: str) -> bool:
    """`YYYY-MM-DDTHH:MM:SS[.digits]Z`: the form numpy parses once the `Z` is cut."""
    if len(t) < 20 or t[10] != "T" or t[-1] != "Z" or t[4] != "-" or t[7] != "-":
        return False
    if t[13] != ":" or t[16] != ":" or not (t[:4] + t[5:7] + t[8:10] + t[11:13] + t[14:16]
                                              + t[17:19]).isdigit():
        return False  # numpy would read a sign in there as a zone offset
    frac = t[20:-1]
    return t[19] == "Z" if len(t) == 20 else t[19] == "." and frac.isascii() and frac.isdigit()


def parse_ns(t: str) -> int:
    """One RFC 3339 timestamp as integer ns since the epoch (ValueError if it is not one)."""
    if len(t) < 20 or t[10] not in "Tt ":
        raise ValueError("not an RFC 3339 timestamp")
    head, rest = t[:19], t[19:]
    frac = ""
    if rest.startswith("."):
        digits = len(rest) - len(rest[1:].lstrip("0123456789"))
        frac, rest = rest[1:digits], rest[digits:]
        if not 1 <= len(frac) <= 9:
            raise ValueError("fraction of a second")
    zone = "+00:00" if rest in ("Z", "z") else rest
    whole = datetime.fromisoformat(head + zone)  # ValueError on a bad date or offset
    ns = int(whole.timestamp()) * 1_000_000_000 + int(frac.ljust(9, "0") or 0)
    if not -_NS_MAX <= ns <= _NS_MAX:
        raise ValueError("timestamp out of range")
    return ns


def valid_ts(t: Any) -> bool:
    try:
        parse_ns(t)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def ts_column(qs: list[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The frame's timestamps as int64 ns (ValueError if one is malformed)."""
    ts = [q.t for q in qs]
    if all(_zulu(t) for t in ts):
        out: np.ndarray[Any, np.dtype[np.int64]] = (
            np.array([t[:-1] for t in ts], dtype="datetime64[ns]").astype(np.int64)
        )
        return out
    return np.fromiter((parse_ns(t) for t in ts), np.int64, len(ts))
