from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from inavd.feeds.columns import write_quote_table
from inavd.feeds.sample import SAMPLE_DAY, SAMPLE_SEED, build_sample_session, sample_session_path
from inavd.settings import load_config
from inavd.universe import build_universe


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sample", help="rebuild the bundled sample session from its real 1-minute bars"
    )
    p.add_argument("--day", type=date.fromisoformat, default=SAMPLE_DAY)
    p.add_argument("--seed", type=int, default=SAMPLE_SEED)
    p.add_argument("--out", type=Path, default=None, help="output .parquet or .csv")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    df = build_sample_session(build_universe(cfg.universe), args.day, args.seed)
    out = args.out or sample_session_path(args.day)
    write_quote_table(out, df)
    print(f"wrote {len(df):,} quotes to {out}")
    return 0
