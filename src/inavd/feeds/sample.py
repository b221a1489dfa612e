"""Bundled sessions: quotes built on demand from the real 1-minute bars of every bundled day.

The default session (2019-12-19) is committed expanded, so that `inavd run` starts at once; every
other day (`inavd.feeds.days.available_days()`) is built from its bars when first asked for.
Provenance and licenses: `inavd/data/sample/PROVENANCE.md`, `inavd/data/days/PROVENANCE.md`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from inavd.calendar import previous_session_day, session_for
from inavd.domain.instruments import Universe
from inavd.errors import DataError
from inavd.feeds.bundled_closes import daily_closes, prior_bar_closes
from inavd.inav.engine import Reference

if TYPE_CHECKING:  # building a session needs pandas; replaying the committed one does not
    import pandas as pd

    from inavd.feeds.days import DayBars

SAMPLE_DAY = date(2019, 12, 19)
SAMPLE_SEED = 20191219
SAMPLE_BENCHMARKS = ("SPY", "QQQ", "IWM")
SAMPLE_FUNDS = ("SH", "PSQ", "SDS", "QID", "SPXU", "SQQQ", "TZA", "SSO", "TQQQ", "UPRO")
DAY_PREFIX = "day:"  # feed.path = "day:2025-04-09" replays a bundled day by name


def sample_dir() -> Path:
    return Path(str(files("inavd") / "data" / "sample"))


def sample_session_path(day: date = SAMPLE_DAY) -> Path:
    return sample_dir() / f"session-{day.isoformat()}.parquet"


def reference_for(day: date, symbols: tuple[str, ...], data_dir: Path | None = None) -> Reference:
    """Prior closes from the bundled daily closes; where a symbol has none, the last regular
    bar of the prior session in the bundled bars. Prior NAV = prior close (flagged as such)."""
    base = data_dir or sample_dir()
    prev = previous_session_day(day)
    prev_session = session_for(prev)
    if prev_session is None:
        raise DataError(f"{prev} is not a session")
    prior = dict(daily_closes(base / "daily_closes.csv").get(prev.isoformat(), {}))
    missing = [s for s in symbols if s not in prior]
    if missing and day.year < 2025:  # the December 2019 bar files, read without pandas
        prior.update(prior_bar_closes(prev, prev_session.close_ns, missing))
    elif missing:
        from inavd.feeds.days import bars_prior_closes

        prior.update(bars_prior_closes(day, missing))
    return Reference(
        prior_close=prior, prior_nav=dict(prior), prior_strike_ns=prev_session.close_ns
    )


def session_universe(universe: Universe, db: DayBars) -> Universe:
    """The configured funds (and their benchmarks) that have usable bars on the day."""
    from inavd.feeds.days import funds_of_day

    usable = set(funds_of_day(db, {f.symbol: f.benchmark for f in universe.funds}))
    funds = tuple(f for f in universe.funds if f.symbol in usable)
    benchmarks = tuple(b for b in universe.benchmarks if any(f.benchmark == b for f in funds))
    return Universe(benchmarks=benchmarks, funds=funds)


def build_day_session(
    day: date, universe: Universe, seed: int = SAMPLE_SEED, synthetic: bool = False
) -> pd.DataFrame:
    """One bundled day's quotes: every symbol from its own bars, or (`synthetic`) fund quotes
    from the daily-reset model plus noise around the benchmarks' real bars."""
    from inavd.feeds.days import day_bars

    db = day_bars(day)
    return build_from_bars(db, universe, seed, synthetic)


def build_from_bars(
    db: DayBars, universe: Universe, seed: int, synthetic: bool = False
) -> pd.DataFrame:
    u = session_universe(universe, db)
    if not u.funds:
        raise DataError(f"{db.day}: no configured fund has usable bars with its benchmark")
    if not synthetic:
        from inavd.feeds.real_session import build_real_session  # only when building a session

        return build_real_session(db.day, db.bars, list(u.benchmarks), list(u.funds), seed)
    from inavd.corporate_actions import apply_actions, bundled_actions
    from inavd.feeds.synthetic import generate_session  # scipy: only for the synthetic option

    ref = reference_for(db.day, u.symbols) if db.source != "user" else _user_reference(db)
    ref = apply_actions(ref, bundled_actions().on(db.day, u.symbols), u.benchmarks, db.day)
    return generate_session(
        day=db.day,
        bars_dir=sample_dir() / "bars",
        benchmarks=list(u.benchmarks),
        funds=list(u.funds),
        prior_close=ref.prior_close,
        prior_nav=ref.prior_nav,
        seed=seed,
        bars=db.bars,
    )


def _user_reference(db: DayBars) -> Reference:
    prev = session_for(previous_session_day(db.day))
    assert prev is not None
    return Reference(dict(db.prior_close), dict(db.prior_close), prev.close_ns)


def build_sample_session(
    universe: Universe, day: date = SAMPLE_DAY, seed: int = SAMPLE_SEED, synthetic: bool = False
) -> pd.DataFrame:
    only = Universe(
        universe.benchmarks, tuple(f for f in universe.funds if f.symbol in SAMPLE_FUNDS)
    )
    return build_day_session(day, only if day == SAMPLE_DAY else universe, seed, synthetic)


def parse_day_path(path: str) -> date | None:
    """`day:2025-04-09` → the day; anything else → None."""
    if not path.startswith(DAY_PREFIX):
        return None
    try:
        return date.fromisoformat(path[len(DAY_PREFIX) :])
    except ValueError:
        raise DataError(f"feed.path: {path!r}: expected day:YYYY-MM-DD") from None


def session_file(day: date, universe: Universe, cache_dir: Path, seed: int = SAMPLE_SEED) -> Path:
    """The quote file of a bundled day, built once into `cache_dir` (the default day is
    committed). Deterministic: the same day and seed give the same file. The name carries a key
    of every input of the build, so runs with other funds or another build never share a file,
    and each builder writes its own temporary file renamed into place: parallel tasks may share
    `cache_dir` (the last rename wins, with identical content)."""
    if day == SAMPLE_DAY and seed == SAMPLE_SEED:
        return sample_session_path()
    out = cache_dir / f"session-{day.isoformat()}-{seed}-{build_key(universe)}.parquet"
    if not out.exists():
        from inavd.feeds.columns import write_quote_table

        tmp = cache_dir / f".{out.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            write_quote_table(tmp, build_day_session(day, universe, seed))
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
    return out


def build_key(universe: Universe) -> str:
    """What a built day depends on besides its date and seed: the funds (in order: they draw
    from one generator) and their benchmarks, the package version and its bundled bars and
    build code, by size and modification time."""
    funds = [(f.symbol, f.benchmark, f.leverage) for f in universe.funds]
    text = repr((list(universe.benchmarks), funds, _build_inputs()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def _build_inputs() -> tuple[object, ...]:
    from inavd import __version__

    here = Path(__file__).parent  # the build's code, without importing it (pandas)
    paths = [here / f"{m}.py" for m in ("days", "real_session", "synthetic", "sample")]
    data = sample_dir().parent
    paths += sorted((data / "sample" / "bars").glob("*.csv")) + sorted(data.glob("days/*.parquet"))
    return (__version__, *((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in paths))


def bundled_funds(feed_path: str) -> set[str] | None:
    """Funds a bundled replay covers (the app restricts its universe to them), else None."""
    if feed_path == "sample":
        return set(SAMPLE_FUNDS)
    day = parse_day_path(feed_path)
    if day is None:
        return None
    from inavd.feeds.days import day_bars, funds_of_day

    return set(funds_of_day(day_bars(day), _default_fund_benchmarks()))


@lru_cache(maxsize=1)
def _default_fund_benchmarks() -> dict[str, str]:
    from inavd.settings import load_config

    return {s: f.benchmark for s, f in load_config(None).universe.funds.items()}
