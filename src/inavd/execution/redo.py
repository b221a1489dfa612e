"""The journal's redo log: every committed transaction, one framed record, appended before SQLite
sees it (docs/execution.md, 'Journal write path').

A frame is a 16-byte header — payload length, CRC-32 (of length, sequence number and payload),
sequence number, little-endian — and the transaction's statements as msgpack: a list of
`[sql, params]`. One `os.write` on an `O_APPEND` descriptor per transaction: a killed process
leaves a frame whole or absent; only a power loss can leave a torn last frame, which reading
drops and counts. Damage anywhere before the last frame is an error, never skipped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import numbers
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

Statement = tuple[str, Sequence[Any]]

HEADER = struct.Struct("<IIQ")  # payload length, crc32, sequence number
_LEN_SEQ = struct.Struct("<IQ")
MAX_PAYLOAD = 256 * 1024 * 1024  # a larger length can only be damage


class RedoDamaged(Exception):
    """A frame before the last one fails its check: the log cannot be trusted past it."""


def _builtin(obj: Any) -> Any:
    """numpy scalars (SQLite binds a float64 as the float it subclasses) as plain numbers."""
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    raise TypeError(f"a journal parameter of type {type(obj).__name__} cannot be logged")


_ENCODER = msgspec.msgpack.Encoder(enc_hook=_builtin)
_DECODER = msgspec.msgpack.Decoder(list[tuple[str, list[Any]]])


def frame(seq: int, statements: Sequence[Statement]) -> bytes:
    payload = _ENCODER.encode(statements)
    crc = zlib.crc32(payload, zlib.crc32(_LEN_SEQ.pack(len(payload), seq)))
    return HEADER.pack(len(payload), crc, seq) + payload


class Scan(msgspec.Struct):
    """What a redo log holds: its whole records, in order, and the torn tail dropped."""

    records: list[tuple[int, list[Statement]]] = msgspec.field(default_factory=list)
    torn: int = 0  # frames dropped at the end (0 or 1)
    torn_bytes: int = 0

    @property
    def last_seq(self) -> int:
        return self.records[-1][0] if self.records else 0


def scan(path: Path) -> Scan:
    """Read and verify every frame. A torn last frame is dropped and counted; a frame that fails
    its check with more bytes after it raises `RedoDamaged` naming its offset."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Scan()
    out = Scan()
    pos, size = 0, len(data)
    while pos < size:
        if size - pos < HEADER.size:
            return _torn(out, size - pos)
        length, crc, seq = HEADER.unpack_from(data, pos)
        if length > MAX_PAYLOAD:
            raise RedoDamaged(f"frame at byte {pos}: impossible length {length}")
        end = pos + HEADER.size + length
        if end > size:  # the write that was cut short
            return _torn(out, size - pos)
        payload = data[pos + HEADER.size : end]
        if zlib.crc32(payload, zlib.crc32(_LEN_SEQ.pack(length, seq))) != crc:
            if end == size:
                return _torn(out, size - pos)
            raise RedoDamaged(f"frame at byte {pos} (seq {seq}) fails its checksum")
        if out.records and seq <= out.last_seq:
            raise RedoDamaged(f"frame at byte {pos}: seq {seq} after seq {out.last_seq}")
        try:
            statements: list[Statement] = list(_DECODER.decode(payload))
        except msgspec.DecodeError as exc:
            raise RedoDamaged(f"frame at byte {pos} (seq {seq}): {exc}") from None
        out.records.append((seq, statements))
        pos = end
    return out


def _torn(out: Scan, nbytes: int) -> Scan:
    out.torn, out.torn_bytes = 1, nbytes
    return out


class RedoLog:
    """The append-only file. `sync` (synchronous = full): fdatasync before a commit returns."""

    def __init__(self, path: Path, sync: bool) -> None:
        self.path = path
        self.sync = sync
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            # one writer: a second process must never apply (again) frames this one applies
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            raise
        self.size = os.fstat(self.fd).st_size
        if sync:  # the file's name must survive a power loss too
            _sync_dir(path.parent)

    def append(self, data: bytes) -> None:
        """One write: on failure the file is cut back to its last whole frame."""
        try:
            n = os.write(self.fd, data)
            if n != len(data):
                raise OSError(errno.ENOSPC, f"short write to the redo log ({n} of {len(data)})")
            if self.sync:
                os.fdatasync(self.fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, self.size)
            raise
        self.size += n

    def truncate(self) -> None:
        """Everything in it is in SQLite (with its sequence number): start the file again."""
        if self.size:
            os.ftruncate(self.fd, 0)
            self.size = 0

    def close(self, remove: bool) -> None:
        os.close(self.fd)
        if remove:
            self.path.unlink(missing_ok=True)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
