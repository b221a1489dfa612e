"""Analysis commands: `decay`, `decay-table`, `track`, `report` (docs/analysis.md).

numpy/pandas/matplotlib are imported inside the handlers so other commands start fast.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inavd.errors import ConfigError

if TYPE_CHECKING:
    from inavd.analysis.decay import DecayTable

DEFAULT_PATHS = 10_000


def register(sub: Any) -> None:
    _register_decay(sub)
    _register_decay_table(sub)
    _register_track(sub)
    _register_report(sub)


# ---------------------------------------------------------------------------- argument parsing
def fraction(text: str) -> float:
    """'0.25' or '25%' → 0.25. Negative percentages need the `--opt=-10%` form in argparse."""
    body, scale = (text[:-1], 0.01) if text.strip().endswith("%") else (text, 1.0)
    try:
        value = float(body) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or percentage: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def fraction_list(text: str) -> list[float]:
    """Comma-separated fractions/percentages: '-0.6,-0.3,0,30%'."""
    return [fraction(part) for part in text.split(",") if part.strip()]


def _finite(text: str) -> float:
    value = fraction(text)
    if "%" in text:
        raise argparse.ArgumentTypeError(f"a plain number is expected, not {text!r}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _flatten(groups: list[list[float]] | None) -> list[float] | None:
    return None if groups is None else [x for group in groups for x in group]


# ------------------------------------------------------------------------------------------ decay
def _register_decay(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "decay",
        help="estimated return of a daily-reset fund over a horizon (volatility drag)",
        description="Closed form (1+R)^L·exp((L−L²)·σ²·T/2) − 1, or a daily-rebalanced Monte "
        "Carlo with --method simulate. Zero fees and rates. Numbers are fractions or "
        "percentages ('0.25' or '25%'; write negative percentages as --index-return=-10%).",
    )
    p.add_argument("--leverage", "-L", type=_finite, required=True, help="daily leverage, e.g. -1")
    p.add_argument("--index-return", type=fraction, required=True,
                   help="index return over the horizon (median index return for simulate)")
    p.add_argument("--volatility", type=fraction, required=True, help="annualised volatility σ")
    p.add_argument("--years", type=_finite, default=1.0, help="horizon T in years (default 1)")
    p.add_argument("--method", choices=("closed", "simulate"), default="closed")
    p.add_argument("--paths", type=_positive_int, default=None,
                   help=f"simulated paths (simulate only, default {DEFAULT_PATHS})")
    p.add_argument("--seed", type=int, default=None, help="random seed (simulate only)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_run_decay)


def _run_decay(args: argparse.Namespace) -> int:
    from inavd.analysis import decay

    closed = decay.closed_form_return(args.leverage, args.index_return, args.volatility, args.years)
    if args.method == "closed":
        if args.paths is not None or args.seed is not None:
            raise ConfigError("--paths and --seed apply only to --method simulate")
        if args.json:
            print(json.dumps({"fund_return": closed}))
        else:
            print(f"{_decay_setup(args)}: estimated fund return {_pct(closed)} (closed form)")
        return 0
    sim = decay.simulate_returns(
        args.leverage, args.index_return, args.volatility, args.years,
        paths=args.paths or DEFAULT_PATHS, seed=args.seed,
    )
    if args.json:
        print(json.dumps({"method": "simulate", "mean": sim.mean, "p5": sim.p5, "p50": sim.p50,
                          "p95": sim.p95, "paths": sim.paths, "days": sim.days}))
        return 0
    print(f"{_decay_setup(args)}, {sim.paths} paths × {sim.days} days, rebalanced daily:")
    print(f"  mean {_pct(sim.mean)}  p5 {_pct(sim.p5)}  p50 {_pct(sim.p50)}  p95 {_pct(sim.p95)}")
    print(f"  closed form {_pct(closed)} (compare with p50)")
    return 0


def _decay_setup(args: argparse.Namespace) -> str:
    return (f"L {args.leverage:g}, index {_pct(args.index_return)}, volatility "
            f"{args.volatility * 100:g} %, {args.years:g} year(s), zero fees and rates")


def _pct(x: float) -> str:
    return f"{x * 100:+.2f} %"


# ------------------------------------------------------------------------------------ decay-table
def _register_decay_table(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "decay-table",
        help="prospectus-style table of estimated one-year fund returns",
        description="Rows: one-year index return; columns: annualised volatility. Lists are "
        "space- or comma-separated fractions or percentages (use --index-returns=-60%,0,60% "
        "for negative percentages).",
    )
    p.add_argument("--leverage", "-L", type=_finite, required=True, help="daily leverage, e.g. -1")
    p.add_argument("--index-returns", type=fraction_list, nargs="+", default=None,
                   help="rows (default -60%% … +60%% in 10-point steps)")
    p.add_argument("--volatilities", type=fraction_list, nargs="+", default=None,
                   help="columns (default 10%% 25%% 50%% 75%% 100%%)")
    p.add_argument("--json", action="store_true", help="print JSON (unrounded fractions)")
    p.set_defaults(func=_run_decay_table)


def _run_decay_table(args: argparse.Namespace) -> int:
    from inavd.analysis import decay

    rows = _flatten(args.index_returns) or list(decay.DEFAULT_INDEX_RETURNS)
    cols = _flatten(args.volatilities) or list(decay.DEFAULT_VOLATILITIES)
    table = decay.decay_table(args.leverage, rows, cols)
    if args.json:
        print(json.dumps({
            "leverage": table.leverage,
            "index_returns": list(table.index_returns),
            "volatilities": list(table.volatilities),
            "fund_returns": [list(r) for r in table.fund_returns],
        }))
        return 0
    print(format_decay_table(table))
    return 0


def format_decay_table(table: DecayTable) -> str:
    """Fixed-width text table, cells rounded to 0.1 % as fund documents print them."""
    from inavd.analysis.decay import round_percent

    def cell(x: float) -> str:
        return f"{round_percent(x)}%"

    def label(x: float, signed: bool = False) -> str:
        return f"{round(x * 100, 6):{'+' if signed and x else ''}g}%"

    header = ["index \\ vol"] + [label(s) for s in table.volatilities]
    body = [[label(r, signed=True)] + [cell(x) for x in row]
            for r, row in zip(table.index_returns, table.fund_returns, strict=True)]
    width = max(len(c) for line in [header, *body] for c in line) + 2
    lines = [
        f"Estimated fund return over one year, {table.leverage:g}x daily leverage "
        "(zero fees and rates)",
        "".join(c.rjust(width) for c in header),
    ]
    lines += ["".join(c.rjust(width) for c in line) for line in body]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ track
def _register_track(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "track",
        help="tracking of a fund against L × its benchmark from daily price CSVs",
        description="Reads Yahoo (Date, Adj Close) or Alpha Vantage (timestamp, adjusted_close) "
        "daily CSVs, aligns dates and reports the daily tracking difference "
        "TD = fund return − L × benchmark return.",
    )
    p.add_argument("--fund", type=Path, required=True, help="fund daily price CSV")
    p.add_argument("--benchmark", type=Path, required=True, help="benchmark daily price CSV")
    p.add_argument("--leverage", "-L", type=_finite, required=True, help="daily leverage, e.g. -1")
    p.add_argument("--start", type=_iso_date, default=None, help="first date (YYYY-MM-DD)")
    p.add_argument("--end", type=_iso_date, default=None, help="last date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", type=Path, default=None, metavar="PNG",
                   help="draw fund vs ideal vs naive cumulative returns to this PNG")
    p.set_defaults(func=_run_track)


def _run_track(args: argparse.Namespace) -> int:
    from inavd.analysis.track import format_stats, plot_track, track

    result = track(args.fund, args.benchmark, args.leverage, args.start, args.end)
    if args.plot is not None:
        plot_track(result, args.plot)
    if args.json:
        print(json.dumps(result.stats.to_json()))
    else:
        print(format_stats(result.stats))
        if args.plot is not None:
            print(f"plot written to {args.plot}")
    return 0


# ----------------------------------------------------------------------------------------- report
def _register_report(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="HTML session report with plots from a journal",
        description="Writes DIR/index.html and PNG plots for one run of the journal "
        "(the latest unless --run-id is given). The journal is opened read-only.",
    )
    p.add_argument("--journal", type=Path, required=True, help="journal SQLite file")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--run-id", default=None, help="run to report (default: the latest)")
    p.set_defaults(func=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from inavd.analysis.report import write_report

    page = write_report(args.journal, args.out, run_id=args.run_id)
    print(f"report written to {page}")
    return 0
