"""Client order ids: deterministic, unique, at most 48 characters (the broker's limit).

`<run>-<strategy>-<symbol>-<seq>` for orders and iceberg parents; `<parent>s<slice>` for an
iceberg's children. The same intent in the same run always maps to the same id, so a retry is
idempotent: the broker refuses a second order with an id it has seen.
"""

from __future__ import annotations

import hashlib

MAX_LEN = 48


def client_order_id(run_id: str, strategy: str, symbol: str, seq: int) -> str:
    coid = f"{run_id}-{strategy[:8]}-{symbol[:8]}-{seq}"
    return coid if len(coid) <= MAX_LEN else _shortened(coid)  # one call per order, not two


def child_order_id(parent_id: str, slice_no: int) -> str:
    coid = f"{parent_id}s{slice_no}"
    return coid if len(coid) <= MAX_LEN else _shortened(coid)


def _shortened(coid: str) -> str:
    # still deterministic: a stable digest of the full id keeps it unique
    digest = hashlib.blake2b(coid.encode(), digest_size=8).hexdigest()
    return f"{coid[: MAX_LEN - 17]}~{digest}"
