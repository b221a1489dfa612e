"""Which allocator Arrow's buffers come from in the daemon (docs/execution.md, 'Memory').

pyarrow's default pool on Linux is mimalloc, which keeps the pages of freed buffers in its heaps:
streaming a replay's row groups through the Parquet reader and writing the iNAV history left about
60 MB more resident at 10,000 funds than the system allocator (measured: 303 against 246 MB peak;
jemalloc 238 MB, but not every pyarrow build has it). The Parquet reader's page and decompression
buffers come from Arrow's C++ default pool, which only `ARROW_DEFAULT_MEMORY_POOL` chooses, and
only before pyarrow is imported — so the command line sets it first thing. An operator's own
setting is kept.
"""

from __future__ import annotations

import os

ENV = "ARROW_DEFAULT_MEMORY_POOL"
POOL = "system"  # in every pyarrow build


def prefer_returning_pool() -> None:
    """Arrow's buffers from the system allocator unless the environment already says otherwise
    (no effect once pyarrow is imported)."""
    os.environ.setdefault(ENV, POOL)
