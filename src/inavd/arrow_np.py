"""Arrow arrays ↔ numpy without pandas.

pyarrow's own conversions (`pa.array(...)`, `Array.to_numpy()`) import pandas to look for its
types — a quarter of a second and 100 MB the daemon otherwise never needs. These helpers go
through the arrays' buffers instead; they handle what the daemon writes and reads: fixed-width
numbers (with nulls when reading) and plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


def to_arrow(values: np.ndarray) -> pa.Array:
    """A 1-d numeric numpy array as an Arrow array sharing its memory (no nulls)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    if values.ndim != 1 or values.dtype.kind not in "fiu":
        raise TypeError(f"not a 1-d numeric array: {values.dtype} {values.shape}")
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def strings(names: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array."""
    import pyarrow as pa

    encoded = [s.encode() for s in names]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def from_arrow(col: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """An integer or floating Arrow array as a numpy view of its buffer, and its validity
    (None: no nulls)."""
    import pyarrow as pa

    t = col.type
    kind = "f" if pa.types.is_floating(t) else "i" if pa.types.is_signed_integer(t) else "u"
    dtype = np.dtype(f"{kind}{t.bit_width // 8}")
    n = len(col)
    if n == 0:
        return np.empty(0, dtype=dtype), None
    buffers = col.buffers()
    values = np.frombuffer(buffers[1], dtype=dtype, count=n, offset=col.offset * dtype.itemsize)
    if not col.null_count:
        return values, None
    bits = np.unpackbits(np.frombuffer(buffers[0], dtype=np.uint8), bitorder="little")
    return values, bits[col.offset : col.offset + n].astype(bool)
