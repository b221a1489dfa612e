"""Which days a backtest replays: bundled real-data days, or sessions in a user's quote files.

A day is a `DaySource`: the session date and the `feed.path` that replays it ("sample" and
"day:YYYY-MM-DD" name bundled data shipped inside the package, so they resolve on every worker
of a cluster; anything else is a quote file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from inavd.errors import ConfigError
from inavd.feeds.quote_file import QuoteFile
from inavd.feeds.sample import DAY_PREFIX, SAMPLE_DAY
from inavd.settings import Config

BUNDLED = "sample"


@dataclass(frozen=True, slots=True)
class DaySource:
    day: date
    path: str  # BUNDLED or a CSV/Parquet quote file

    @property
    def label(self) -> str:
        return self.day.isoformat()


def bundled_days(cfg: Config) -> dict[date, str]:
    """Every bundled real day the config's funds can trade, as the `feed.path` replaying it: the
    committed sample session by its own name (what `inavd run` replays by default), any other day
    as `day:YYYY-MM-DD` (built from the bundled bars in the task's folder, on the worker)."""
    from inavd.feeds.days import available_days

    funds = {s: f.benchmark for s, f in cfg.universe.funds.items()}
    return {
        d: BUNDLED if d == SAMPLE_DAY else f"{DAY_PREFIX}{d.isoformat()}"
        for d in available_days(funds)
    }


def file_days(path: Path, tz: str = "") -> list[date]:
    """Session days in a recorded quote file (a first pass over its `ts` column only, with the
    checks the replay itself applies)."""
    return QuoteFile(path, tz).scan().days


def catalog(cfg: Config) -> dict[date, str]:
    """The days `--days all` means: the config's own quote file if it names one, else every
    bundled day."""
    feed = cfg.settings.feed
    if feed.kind == "replay" and feed.path != BUNDLED:
        return dict.fromkeys(file_days(Path(feed.path), feed.tz), str(Path(feed.path).resolve()))
    return bundled_days(cfg)


def resolve_days(
    cfg: Config, spec: str | None, start: date | None = None, end: date | None = None
) -> list[DaySource]:
    """`--days all | D1,D2,… ` (a day is an ISO date, a quote file, or FILE@DATE) and
    `--from/--to` → the ordered, de-duplicated list of days to run."""
    known = catalog(cfg)
    if spec is None or spec.strip() == "all":
        chosen = [DaySource(d, p) for d, p in sorted(known.items())]
    else:
        chosen = [s for item in _items(spec) for s in _one(item, known, cfg.settings.feed.tz)]
    chosen = [
        s for s in chosen if (start is None or s.day >= start) and (end is None or s.day <= end)
    ]
    unique = list(dict.fromkeys(chosen))
    if not unique:
        raise ConfigError(f"--days: no session selected (available: {_listed(known)})")
    return unique


def _items(spec: str) -> list[str]:
    items = [x.strip() for x in spec.split(",")]
    if any(not x for x in items):
        raise ConfigError(f"--days {spec!r}: empty item")
    return items


def _one(item: str, known: dict[date, str], tz: str) -> list[DaySource]:
    path_part, _, day_part = item.partition("@")
    day = _as_date(item)
    if day is not None:
        if day not in known:
            raise ConfigError(
                f"--days: {day} is not an available day (available: {_listed(known)})"
            )
        return [DaySource(day, known[day])]
    path = Path(path_part)
    if not path.is_file():
        raise ConfigError(f"--days: {item!r} is neither a date (YYYY-MM-DD) nor a quote file")
    days = file_days(path, tz)
    where = str(path.resolve())  # workers run elsewhere: no path relative to this directory
    if not day_part:
        return [DaySource(d, where) for d in days]
    wanted = _as_date(day_part)
    if wanted is None or wanted not in days:
        raise ConfigError(f"--days: {path} has no session {day_part!r} (it has {_dates(days)})")
    return [DaySource(wanted, where)]


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _listed(known: dict[date, str]) -> str:
    return _dates(sorted(known)) or "none"


def _dates(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days[:10]) + (" …" if len(days) > 10 else "")
