"""Alpaca market-data frames (msgpack) → columnar `QuoteBatch` with msgspec, no per-quote dicts.

A frame is a msgpack array of messages tagged by `T`. The fast path decodes the whole frame into
typed Structs and builds the columns with numpy. `t` is kept raw: msgspec turns the Timestamp
extension (type -1) into a microsecond `datetime` by itself (an `ext_hook` is never called for
-1), which would lose Alpaca's nanoseconds. The 8-byte form (`d7 ff` + 30-bit ns | 34-bit s) is
converted for the whole frame at once; other forms go through `timestamp_ns` per quote.

If the fast path fails (a malformed message, an unknown `T`, an unknown symbol), the frame is
decoded again message by message: bad quotes are counted and skipped, the rest are kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import msgspec
import numpy as np

from inavd.domain.quotes import QuoteBatch

_FIXEXT8_TS = b"\xd7\xff"
_LOW34 = (1 << 34) - 1
_TS8 = np.dtype([("head", "V2"), ("v", ">u8")])


class Quote(msgspec.Struct, tag_field="T", tag="q"):
    S: str
    bp: float
    ap: float
    bs: float
    as_: float = msgspec.field(name="as")
    t: msgspec.Raw = msgspec.Raw(b"")


class Success(msgspec.Struct, tag_field="T", tag="success"):
    msg: str = ""


class Subscription(msgspec.Struct, tag_field="T", tag="subscription"):
    quotes: list[str] = []


class Error(msgspec.Struct, tag_field="T", tag="error"):
    code: int = 0
    msg: str = ""


class Other(msgspec.Struct):  # any message, to read its tag in the slow path
    T: str = ""


Control = Success | Subscription | Error
Message = Quote | Success | Subscription | Error


def timestamp_ns(raw: bytes) -> int:
    """A msgpack Timestamp extension (any of its three forms) as integer ns since the epoch."""
    if raw[:2] == _FIXEXT8_TS and len(raw) == 10:
        v = int.from_bytes(raw[2:], "big")
        return (v & _LOW34) * 1_000_000_000 + (v >> 34)
    if raw[:2] == b"\xd6\xff" and len(raw) == 6:
        return int.from_bytes(raw[2:], "big") * 1_000_000_000
    if raw[:3] == b"\xc7\x0c\xff" and len(raw) == 15:
        nanos, secs = struct.unpack(">Iq", raw[3:])
        return int(secs) * 1_000_000_000 + int(nanos)
    raise ValueError("not a msgpack Timestamp")


@dataclass
class Decoded:
    batch: QuoteBatch | None = None
    controls: list[Control] = field(default_factory=list)
    bad: int = 0
    ignored: int = 0  # well-formed messages of other kinds (trades, bars, ...)


class FrameDecoder:
    def __init__(self, index: dict[str, int]) -> None:
        self.index = index
        self._frame = msgspec.msgpack.Decoder(list[Message])
        self._raw = msgspec.msgpack.Decoder(list[msgspec.Raw])
        self._one = msgspec.msgpack.Decoder(Message)
        self._other = msgspec.msgpack.Decoder(Other)

    def decode(self, data: bytes) -> Decoded:
        try:
            msgs = self._frame.decode(data)
        except msgspec.DecodeError:
            return self._slow(data)
        quotes = [m for m in msgs if type(m) is Quote]
        out = Decoded(controls=[m for m in msgs if type(m) is not Quote])  # type: ignore[misc]
        if quotes:
            try:
                out.batch = self._columns(quotes)
            except (KeyError, ValueError):
                return self._slow(data)
        return out

    def _columns(self, qs: list[Quote]) -> QuoteBatch:
        index = self.index
        n = len(qs)
        sym = np.fromiter((index[q.S] for q in qs), np.int32, n)
        raw = b"".join([q.t for q in qs])  # type: ignore[misc]  # Raw is a buffer
        if len(raw) == 10 * n:
            ts8 = np.frombuffer(raw, _TS8)
            if (ts8["head"] != np.void(_FIXEXT8_TS)).any():
                raise ValueError("timestamp form")
            v = ts8["v"]
            ts = (v & _LOW34).astype(np.int64) * 1_000_000_000 + (v >> 34).astype(np.int64)
        else:
            ts = np.fromiter((timestamp_ns(bytes(q.t)) for q in qs), np.int64, n)
        return QuoteBatch(
            ts,
            sym,
            np.fromiter((q.bp for q in qs), np.float64, n),
            np.fromiter((q.ap for q in qs), np.float64, n),
            np.fromiter((q.bs for q in qs), np.float64, n),
            np.fromiter((q.as_ for q in qs), np.float64, n),
        )

    def _slow(self, data: bytes) -> Decoded:
        out = Decoded()
        try:
            raws = self._raw.decode(data)
        except msgspec.DecodeError:
            out.bad += 1  # not even an array of messages: the frame is lost, counted
            return out
        good: list[Quote] = []
        for r in raws:
            try:
                m = self._one.decode(r)
            except msgspec.DecodeError:
                if self._is_other_kind(r):
                    out.ignored += 1
                else:
                    out.bad += 1
                continue
            if type(m) is not Quote:
                out.controls.append(m)
            elif m.S in self.index and _valid_ts(m.t):
                good.append(m)
            else:
                out.bad += 1
        if good:
            out.batch = self._columns(good)
        return out

    def _is_other_kind(self, r: msgspec.Raw) -> bool:
        try:
            tag = self._other.decode(r).T
        except msgspec.DecodeError:
            return False
        return tag not in ("q", "success", "subscription", "error")


def _valid_ts(raw: msgspec.Raw) -> bool:
    try:
        timestamp_ns(bytes(raw))
    except ValueError:
        return False
    return True
