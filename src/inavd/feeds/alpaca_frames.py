"""Alpaca market-data frames (msgpack or JSON) → columnar `QuoteBatch` with msgspec.

A frame is an array of messages tagged by `T`. The fast path decodes the whole frame into typed
Structs and builds the columns with numpy, no per-quote dicts. In msgpack, `t` is kept raw:
msgspec turns the Timestamp extension (type -1) into a microsecond `datetime` by itself (an
`ext_hook` is never called for -1), which would lose Alpaca's nanoseconds. The 8-byte form
(`d7 ff` + 30-bit ns | 34-bit s) is converted for the whole frame at once; other forms go through
`timestamp_ns` per quote. JSON frames (`alpaca_json`) carry `t` as RFC 3339 text.

If the fast path fails (a malformed message, an unknown `T`, an unknown symbol), the frame is
decoded again message by message: bad quotes are counted and skipped, the rest are kept. Nothing
a peer sends can make `decode` raise: a frame that cannot be read at all (not an array, invalid
UTF-8, nesting too deep for the decoder, ...) comes back as one `bad_frames`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from inavd.domain.quotes import QuoteBatch
from inavd.feeds import alpaca_json

_FIXEXT8_TS = b"\xd7\xff"
_LOW34 = (1 << 34) - 1
_TS8 = np.dtype([("head", "V2"), ("v", ">u8")])
_MAX_NS = 2**63 - 1
_MAX_S = _MAX_NS // 1_000_000_000 - 1


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
JsonMessage = alpaca_json.JsonQuote | Success | Subscription | Error
AnyQuote = Quote | alpaca_json.JsonQuote


def timestamp_ns(raw: bytes) -> int:
    """A msgpack Timestamp extension (any of its three forms) as integer ns since the epoch.

    Raises ValueError for anything else, and for an instant the int64 ns column cannot hold
    (after 2262; the 12-byte form allows 64-bit seconds)."""
    if raw[:2] == _FIXEXT8_TS and len(raw) == 10:
        v = int.from_bytes(raw[2:], "big")
        ns = (v & _LOW34) * 1_000_000_000 + (v >> 34)
    elif raw[:2] == b"\xd6\xff" and len(raw) == 6:
        ns = int.from_bytes(raw[2:], "big") * 1_000_000_000
    elif raw[:3] == b"\xc7\x0c\xff" and len(raw) == 15:
        nanos, secs = struct.unpack(">Iq", raw[3:])
        ns = int(secs) * 1_000_000_000 + int(nanos)
    else:
        raise ValueError("not a msgpack Timestamp")
    if not -_MAX_NS <= ns <= _MAX_NS:
        raise ValueError("timestamp out of range")
    return ns


@dataclass
class Decoded:
    batch: QuoteBatch | None = None
    controls: list[Control] = field(default_factory=list)
    bad: int = 0  # messages skipped (malformed, unknown symbol, bad timestamp)
    ignored: int = 0  # well-formed messages of other kinds (trades, bars, ...)
    bad_frames: int = 0  # frames that could not be read at all
    reason: str = ""  # why the last bad frame was dropped (for the log line)


@dataclass(frozen=True)
class _Dialect:
    frame: Callable[[Any], list[Any]]
    raws: Callable[[Any], list[msgspec.Raw]]
    one: Callable[[Any], Any]
    other: Callable[[Any], Other]
    quote: Any  # the dialect's quote Struct class
    ts_column: Callable[[list[Any]], np.ndarray[Any, np.dtype[np.int64]]]
    valid_ts: Callable[[Any], bool]
    is_map: Callable[[msgspec.Raw], bool]  # could this raw message be a message (an object)?


class FrameDecoder:
    def __init__(self, index: dict[str, int]) -> None:
        self.index = index
        mp, js = msgspec.msgpack, msgspec.json
        self._msgpack = _Dialect(
            mp.Decoder(list[Message]).decode, mp.Decoder(list[msgspec.Raw]).decode,
            mp.Decoder(Message).decode, mp.Decoder(Other).decode,
            Quote, _msgpack_ts, _valid_msgpack_ts, _msgpack_map,
        )  # fmt: skip
        self._json = _Dialect(
            js.Decoder(list[JsonMessage]).decode, js.Decoder(list[msgspec.Raw]).decode,
            js.Decoder(JsonMessage).decode, js.Decoder(Other).decode,
            alpaca_json.JsonQuote, alpaca_json.ts_column, alpaca_json.valid_ts, _json_map,
        )  # fmt: skip

    def decode(self, data: bytes) -> Decoded:
        """A binary (msgpack) frame."""
        return self._guarded(self._msgpack, data)

    def decode_json(self, data: str | bytes) -> Decoded:
        """A text (JSON) frame."""
        return self._guarded(self._json, data)

    def _guarded(self, d: _Dialect, data: Any) -> Decoded:
        try:
            return self._fast(d, data)
        except Exception as exc:  # nothing from the wire may kill the feed
            return Decoded(bad_frames=1, reason=type(exc).__name__)

    def _fast(self, d: _Dialect, data: Any) -> Decoded:
        try:
            msgs = d.frame(data)
        except Exception:
            return self._slow(d, data)
        quote = d.quote
        quotes = [m for m in msgs if type(m) is quote]
        out = Decoded(controls=[m for m in msgs if type(m) is not quote])
        if quotes:
            try:
                out.batch = self._columns(d, quotes)
            except Exception:  # unknown symbol, bad timestamp: message by message
                return self._slow(d, data)
        return out

    def _columns(self, d: _Dialect, qs: list[Any]) -> QuoteBatch:
        index = self.index
        n = len(qs)
        return QuoteBatch(
            d.ts_column(qs),
            np.fromiter((index[q.S] for q in qs), np.int32, n),
            np.fromiter((q.bp for q in qs), np.float64, n),
            np.fromiter((q.ap for q in qs), np.float64, n),
            np.fromiter((q.bs for q in qs), np.float64, n),
            np.fromiter((q.as_ for q in qs), np.float64, n),
        )

    def _slow(self, d: _Dialect, data: Any) -> Decoded:
        out = Decoded()
        try:
            raws = d.raws(data)
        except Exception as exc:  # not even an array of messages: the frame is lost, counted
            out.bad_frames, out.reason = 1, type(exc).__name__
            return out
        good: list[Any] = []
        is_map = d.is_map
        for r in raws:
            if not is_map(r):  # cheap test first: a frame of 10^5 scalars must not stall us
                out.bad += 1
                continue
            try:
                m: Any = d.one(r)
            except Exception:
                if self._is_other_kind(d, r):
                    out.ignored += 1
                else:
                    out.bad += 1
                continue
            if type(m) is not d.quote:
                out.controls.append(m)
            elif m.S in self.index and d.valid_ts(m.t):
                good.append(m)
            else:
                out.bad += 1
        if good:
            out.batch = self._columns(d, good)
        return out

    @staticmethod
    def _is_other_kind(d: _Dialect, r: msgspec.Raw) -> bool:
        try:
            tag = d.other(r).T
        except Exception:
            return False
        return tag not in ("q", "success", "subscription", "error")


def _msgpack_ts(qs: list[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    n = len(qs)
    raw = b"".join([q.t for q in qs])
    if len(raw) == 10 * n:
        ts8 = np.frombuffer(raw, _TS8)
        if (ts8["head"] != np.void(_FIXEXT8_TS)).any():
            raise ValueError("timestamp form")
        v = ts8["v"]
        secs = (v & _LOW34).astype(np.int64)
        if (secs > _MAX_S).any():  # 34-bit seconds reach 2514; int64 ns end in 2262
            raise ValueError("timestamp out of range")
        return secs * 1_000_000_000 + (v >> 34).astype(np.int64)
    return np.fromiter((timestamp_ns(bytes(q.t)) for q in qs), np.int64, n)


def _valid_msgpack_ts(raw: msgspec.Raw) -> bool:
    try:
        timestamp_ns(bytes(raw))
    except ValueError:
        return False
    return True


def _msgpack_map(raw: msgspec.Raw) -> bool:
    head = memoryview(raw)[0]  # type: ignore[arg-type]  # Raw is a buffer
    return 0x80 <= head <= 0x8F or head in (0xDE, 0xDF)  # fixmap, map 16, map 32


def _json_map(raw: msgspec.Raw) -> bool:
    return bytes(memoryview(raw)[:1]) == b"{"  # type: ignore[arg-type]  # msgspec strips spaces
