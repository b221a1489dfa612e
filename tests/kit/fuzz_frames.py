"""Seeded hostile market-data frames for the fuzz test: crafted cases and random mutations.

Crafted: invalid UTF-8 in a string, a msgpack Timestamp whose seconds need more than 34 bits,
nesting deeper than any decoder's stack, wrong types in every field, bare scalars, maps instead
of arrays, truncation, ~800 KB frames. Mutations: byte flips, insertions, deletions and cuts of
well-formed frames. Mutated frames use timestamps far from the good frames' so that a mutation
which happens to survive as a valid quote can never be mistaken for a good one.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable, Iterator
from typing import Any

import msgpack

from tests.kit import alpaca_wire as wire

MUTANT_T0 = 1_709_303_400_000_000_000 + 10**15  # ~11 days after the good frames
HUGE = 800_000  # bytes; under alpaca-py's 1 MiB websocket limit, so the socket stays up


def _template(rng: random.Random, symbols: tuple[str, ...]) -> list[dict[str, Any]]:
    n = rng.randint(1, 6)
    return [
        wire.quote(rng.choice(symbols), 100.0, 100.02, 3, 4, MUTANT_T0 + rng.randint(0, 10**6))
        for _ in range(n)
    ]


def _msgpack_crafted(rng: random.Random, syms: tuple[str, ...]) -> list[bytes]:
    q = wire.pack(_template(rng, syms))
    bad_utf8 = b"\x91\x83\xa1T\xa1q\xa1S\xa3\xff\xfe\xfd\xa2bp\xcb" + struct.pack(">d", 1.0)
    ts_12 = b"\xc7\x0c\xff" + struct.pack(">Iq", 5, 2**40)  # seconds need 41 bits
    big_ts = dict(wire.quote(syms[0], 1, 2, 1, 1, 0), t=msgpack.ExtType(99, ts_12[3:]))
    wrong = [dict(wire.quote(syms[0], 1, 2, 1, 1, MUTANT_T0), **{k: v})
             for k, v in (("bp", "x"), ("S", 7), ("t", {"a": 1}), ("as", [1]), ("T", None))]
    return [
        bad_utf8,
        b"\x91\x82\xa1T\xa1q\xa1t" + ts_12,
        wire.pack([{"T": "q", "S": syms[0], "bp": 1.0, "ap": 1.1, "bs": 1, "as": 1,
                    "t": msgpack.Timestamp(2**34 - 1, 0)}]),  # 8-byte form, past 2262
        wire.pack([big_ts]),
        b"\x91" * rng.choice((1000, 5000, 20000)) + b"\xc0",  # deep nesting
        b"\x81\xa1T" * 3000 + b"\xc0",
        wire.pack(wrong),
        msgpack.packb(rng.choice([42, None, "quote", 1.5, True, b"\x00"])),  # bare scalars
        msgpack.packb({"T": "q", "S": syms[0]}),  # a map, not an array
        q[: rng.randint(1, max(len(q) - 1, 1))],  # truncated
        b"\xdd\xff\xff\xff\xff",  # an array claiming 4 billion elements
        b"\x91\xc7\x0c\xff" + b"\x00" * 3,  # a cut extension
        b"\xc1" + rng.randbytes(50),  # never-used byte
        msgpack.packb(["x" * HUGE]) if rng.random() < 0.02 else b"",
        b"",
    ]


def _json_crafted(rng: random.Random, syms: tuple[str, ...]) -> list[str]:
    q = wire.to_json(_template(rng, syms))
    wrong = [dict(json.loads(q)[0], **{k: v})
             for k, v in (("bp", "x"), ("S", 7), ("t", {"a": 1}), ("t", "2024-13-01T00:00:00Z"),
                          ("t", "99999-01-01T00:00:00Z"), ("as", [1]), ("T", None))]
    return [
        "[" * rng.choice((1000, 5000, 20000)) + "]" * 3,  # deep nesting
        json.dumps(wrong),
        rng.choice(["42", "null", '"quote"', "1.5", "true", "{}"]),  # bare scalars, a map
        q[: rng.randint(1, max(len(q) - 1, 1))],  # truncated
        '[{"T":"q","S":"\\ud800","bp":1,"ap":1,"bs":1,"as":1,"t":"2024-03-01T14:30:00Z"}]',
        '[{"T":"q","bp":1e999999}]',
        "[" + "1," * (HUGE // 2) + "1]" if rng.random() < 0.02 else "",
        "",
    ]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        at = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:
            b[min(at, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 2 and b:
            del b[at : at + rng.randint(1, 8)]
        else:
            del b[at:]
    return bytes(b)


def frames(
    encoding: wire.Encoding, n: int, seed: int, syms: tuple[str, ...]
) -> Iterator[bytes | str]:
    """`n` hostile frames for a connection that negotiated `encoding`, same every run."""
    rng = random.Random(seed)
    crafted: Callable[[random.Random, tuple[str, ...]], list[Any]]
    crafted = _msgpack_crafted if encoding == "msgpack" else _json_crafted
    made = 0
    while made < n:
        for f in crafted(rng, syms):
            if f and made < n:
                made += 1
                yield f
        for _ in range(10):
            good = wire.encode(_template(rng, syms), encoding)
            raw = good.encode() if isinstance(good, str) else good
            mutant = _mutate(rng, raw)
            if made < n:
                made += 1
                yield mutant.decode("utf-8", "replace") if encoding == "json" else mutant
