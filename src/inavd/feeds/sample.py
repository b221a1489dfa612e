"""The bundled sample session: real 1-minute bars of Dec 2019 expanded to a day of quotes.

Provenance and license: `inavd/data/sample/PROVENANCE.md`.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path

import pandas as pd

from inavd.calendar import previous_session_day, session_for
from inavd.clock import NY
from inavd.domain.instruments import Universe
from inavd.errors import DataError
from inavd.inav.engine import Reference

SAMPLE_DAY = date(2019, 12, 19)
SAMPLE_SEED = 20191219
SAMPLE_BENCHMARKS = ("SPY", "QQQ", "IWM")
SAMPLE_FUNDS = ("SH", "PSQ", "SDS", "QID", "SPXU", "SQQQ", "TZA", "SSO", "TQQQ", "UPRO")


def sample_dir() -> Path:
    return Path(str(files("inavd") / "data" / "sample"))


def sample_session_path(day: date = SAMPLE_DAY) -> Path:
    return sample_dir() / f"session-{day.isoformat()}.parquet"


def reference_for(day: date, symbols: tuple[str, ...], data_dir: Path | None = None) -> Reference:
    """Prior closes from the bundled daily closes; where a fund has none, the last 1-minute bar
    of the prior session. Prior NAV = prior close (these funds close within a few bp of NAV)."""
    base = data_dir or sample_dir()
    prev = previous_session_day(day)
    closes = pd.read_csv(base / "daily_closes.csv", dtype={"symbol": str, "date": str})
    row = closes[closes["date"] == prev.isoformat()]
    prior = {str(s): float(c) for s, c in zip(row["symbol"], row["close"], strict=True)}
    for sym in symbols:
        if sym not in prior:
            last = _last_bar_close(base / "bars" / f"{sym}.csv", prev)
            if last is not None:
                prior[sym] = last
    prev_session = session_for(prev)
    if prev_session is None:
        raise DataError(f"{prev} is not a session")
    return Reference(
        prior_close=prior, prior_nav=dict(prior), prior_strike_ns=prev_session.close_ns
    )


def _last_bar_close(path: Path, day: date) -> float | None:
    if not path.exists():
        return None
    bars = pd.read_csv(path)
    ts = pd.to_datetime(bars.iloc[:, 0], utc=True).dt.tz_convert(NY)
    on_day = bars[ts.dt.date == day]
    return float(on_day["Close"].iloc[-1]) if len(on_day) else None


def build_sample_session(
    universe: Universe, day: date = SAMPLE_DAY, seed: int = SAMPLE_SEED
) -> pd.DataFrame:
    from inavd.feeds.synthetic import generate_session  # scipy: only when building a session

    funds = [f for f in universe.funds if f.symbol in SAMPLE_FUNDS]
    ref = reference_for(day, universe.symbols)
    return generate_session(
        day=day,
        bars_dir=sample_dir() / "bars",
        benchmarks=list(SAMPLE_BENCHMARKS),
        funds=funds,
        prior_close=ref.prior_close,
        prior_nav=ref.prior_nav,
        seed=seed,
    )
