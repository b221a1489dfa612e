"""The closing auction of a bundled day replayed by name prints at that day's official close."""

from __future__ import annotations

from datetime import date

import pytest

from inavd.adapters import make_auction
from inavd.settings import load_config


def test_bundled_day_by_name_uses_its_official_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INAVD_FEED__PATH", "day:2019-12-20")
    cfg = load_config(None)
    auction = make_auction(cfg, date(2019, 12, 20), ("SPY", "QQQ", "SH", "SPXU"), None)
    # 2019-12-20 closes from the bundled daily data (SPY's ex-dividend day)
    assert auction.official == pytest.approx(
        {"SPY": 320.73, "QQQ": 211.71, "SH": 24.15, "SPXU": 20.25}
    )


def test_a_2025_day_without_daily_data_falls_back_to_the_last_mid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INAVD_FEED__PATH", "day:2025-04-07")
    cfg = load_config(None)
    assert make_auction(cfg, date(2025, 4, 7), ("QQQ", "TQQQ"), None).official == {}
