from __future__ import annotations

from pathlib import Path

from inavd.settings import DEFAULT_CONFIG, DEFAULT_UNIVERSE

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["DEFAULT_CONFIG", "DEFAULT_UNIVERSE", "ROOT"]
