"""Premium/discount against the NBBO midpoint, in basis points."""

from __future__ import annotations

from inavd.domain.quotes import F64


def premium_bp(mid: float, inav: float) -> float:
    return (mid / inav - 1.0) * 1e4


def premium_bp_vec(mid: F64, inav: F64) -> F64:
    return (mid / inav - 1.0) * 1e4
