from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from inavd.errors import ConfigError
from inavd.feeds.columns import write_quote_table
from inavd.feeds.days import available_days
from inavd.feeds.sample import (
    SAMPLE_DAY,
    SAMPLE_SEED,
    build_from_bars,
    build_sample_session,
    sample_session_path,
)
from inavd.settings import load_config
from inavd.universe import build_universe


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sample",
        help="build a session of quotes from real 1-minute bars (a bundled day or your own)",
    )
    p.add_argument("--day", type=_day, default=SAMPLE_DAY, help="session day, YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=SAMPLE_SEED)
    p.add_argument("--out", type=Path, default=None, help="output .parquet or .csv")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="fund quotes from the daily-reset model plus noise instead of the funds' own bars",
    )
    p.add_argument("--bars", type=Path, default=None, help="folder of <SYMBOL>.csv 1-minute bars")
    p.add_argument("--tz", default="America/New_York", help="time zone of naive timestamps")
    p.add_argument("--list", action="store_true", help="list the bundled days and exit")
    p.set_defaults(func=_run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    universe = build_universe(cfg.universe)
    if args.list:
        print("\n".join(d.isoformat() for d in available_days()))
        return 0
    if args.bars is not None:
        from inavd.feeds.user_bars import folder_day_bars

        db = folder_day_bars(args.bars, args.day, args.tz)
        df = build_from_bars(db, universe, args.seed, args.synthetic)
        out = args.out or Path(f"session-{args.day.isoformat()}.parquet")
    else:
        if args.day not in available_days():
            raise ConfigError(f"--day {args.day}: not a bundled day (inavd sample --list)")
        df = build_sample_session(universe, args.day, args.seed, args.synthetic)
        default = args.day == SAMPLE_DAY and args.seed == SAMPLE_SEED and not args.synthetic
        out = args.out or (
            sample_session_path() if default else Path(f"session-{args.day.isoformat()}.parquet")
        )
    write_quote_table(out, df)
    print(f"wrote {len(df):,} quotes to {out}")
    return 0
