"""Sizing: from a signal's edge to shares (fractional Kelly, volatility target, whole shares)."""

from inavd.sizing.config import SizingSettings
from inavd.sizing.kelly import Sizer, kelly_fraction, to_shares, vol_multiplier

__all__ = ["Sizer", "SizingSettings", "kelly_fraction", "to_shares", "vol_multiplier"]
