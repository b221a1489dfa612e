"""`inavd backtest` and `inavd sweep`: many days (× many settings) of the daemon's own replay,
serially or on Dask."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from inavd.errors import ConfigError
from inavd.settings import Config, load_config


def register(sub: Any) -> None:
    bt: argparse.ArgumentParser = sub.add_parser(
        "backtest", help="replay many days as independent tasks (serially or on Dask)"
    )
    _common(bt)
    bt.add_argument("--serial", action="store_true", help="run in this process, no Dask")
    bt.set_defaults(func=_backtest)
    sw: argparse.ArgumentParser = sub.add_parser(
        "sweep", help="backtest every point of a parameter grid (KEY=V1,V2,… per --grid)"
    )
    sw.add_argument(
        "--grid", action="append", required=True, metavar="KEY=V1,V2,…",
        help="a dotted config key and its values, e.g. strategies.premium_arb.threshold_bp=2,5",
    )  # fmt: skip
    _common(sw)
    sw.add_argument("--serial", action="store_true", help="run in this process, no Dask")
    sw.set_defaults(func=_sweep)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help="TOML config file")
    p.add_argument("--days", default=None, help="all | D1,D2,… (a date, a quote file, FILE@DATE)")
    p.add_argument("--from", dest="start", type=_day, default=None, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_day, default=None, help="last day (YYYY-MM-DD)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, default=None, help="local Dask workers")
    where.add_argument("--scheduler", default=None, help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _target(args: argparse.Namespace) -> Any:
    from inavd.research.runner import Target

    if args.serial and (args.workers or args.scheduler):
        raise ConfigError("--serial runs in this process: drop --workers / --scheduler")
    return Target(serial=args.serial, scheduler=args.scheduler, workers=args.workers)


def _prepare(args: argparse.Namespace) -> tuple[Config, list[Any]]:
    from inavd.research.days import resolve_days

    cfg = load_config(args.config)
    if cfg.settings.broker.kind != "paper":
        raise ConfigError(f"{cfg.path}: broker.kind: backtests run on the paper broker only")
    if args.start and args.end and args.start > args.end:
        raise ConfigError(f"--from {args.start} is after --to {args.end}")
    return cfg, resolve_days(cfg, args.days, args.start, args.end)


def _backtest(args: argparse.Namespace) -> int:
    from inavd.research.output import write_backtest
    from inavd.research.report import write_report
    from inavd.research.runner import run_all
    from inavd.research.task import DayTask

    target = _target(args)
    cfg, days = _prepare(args)
    tasks_dir = _tasks_dir(args.out)
    shared = str(tasks_dir.parent / "sessions")
    tasks = [DayTask(d.label, cfg, d, str(tasks_dir / d.label), sessions_dir=shared) for d in days]
    print(f"backtest: {len(tasks)} day(s) on {target.describe()}")
    rows = run_all(tasks, target)
    summary = write_backtest(args.out, rows, {"config": str(cfg.path)})
    write_report(args.out, rows, summary)
    print(_render(rows, summary["total"]))
    print(f"wrote {args.out}/summary.json, days.parquet, report.html")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from inavd.research.grid import apply_overrides, grid_points, parse_grid
    from inavd.research.output import write_sweep
    from inavd.research.report import can_plot
    from inavd.research.runner import run_all
    from inavd.research.task import DayTask

    target = _target(args)
    grid = parse_grid(args.grid)
    cfg, days = _prepare(args)
    points = grid_points(grid)
    configs = [apply_overrides(cfg, p) for p in points]  # every point refused before any runs
    tasks_dir = _tasks_dir(args.out)
    shared = str(tasks_dir.parent / "sessions")  # each day built once, whatever the setting
    tasks = [
        DayTask(f"s{i:03d}-{d.label}", c, d, str(tasks_dir / f"s{i:03d}-{d.label}"), p, shared)
        for i, (p, c) in enumerate(zip(points, configs, strict=True))
        for d in days
    ]
    print(f"sweep: {len(points)} setting(s) × {len(days)} day(s) on {target.describe()}")
    rows = run_all(tasks, target)
    per = write_sweep(args.out, grid, points, rows)
    print(per.astype(object).where(per.notna(), "—").to_string(index=False))
    heat = ", heatmap.png" if len(grid) == 2 and can_plot() else ""
    print(f"wrote {args.out}/results.parquet, summary.csv{heat}")
    return 0


def _tasks_dir(out: Path) -> Path:
    """Task-private folders live under DIR/tasks/<task>/ (each task clears its own); bundled
    days built from bars under DIR/sessions/."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    return out.resolve() / "tasks"


def _render(rows: list[dict[str, Any]], total: dict[str, Any]) -> str:
    lines = [f"{'day':<12}{'orders':>8}{'fills':>8}{'P&L total':>12}{'drawdown':>10}  note"]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['day']:<12}{'':>38}  FAILED: {r['error']}")
            continue
        lines.append(
            f"{r['day']:<12}{r['orders']:>8}{r['fills']:>8}{r['pnl']['total']:>12,.2f}"
            f"{r['max_drawdown']:>10,.2f}"
        )
    ratio = "—" if total["sharpe"] is None else f"{total['sharpe']:.2f}"
    lines.append(
        f"total: P&L {total['pnl']:,.2f} USD over {total['days']} day(s), "
        f"Sharpe {ratio}, max drawdown {total['max_drawdown']:,.2f}, failed {total['failed']}"
    )
    return "\n".join(lines)
