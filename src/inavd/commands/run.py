from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inavd.app import App, RunOptions, install_event_loop_policy
from inavd.errors import ConfigError
from inavd.logging import configure_logging
from inavd.settings import Config, load_config
from inavd.summary import render_text


def register(sub: Any) -> None:
    for name, help_ in (
        ("run", "run the daemon on a config (default: the embedded default config)"),
        ("replay", "replay a recorded session (same as run, with --input to pick the file)"),
    ):
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.add_argument("--config", type=Path, default=None, help="TOML config file")
        p.add_argument(
            "--speed",
            type=float,
            default=None,
            help="replay speed: 1 = real time, 0 = as fast as possible",
        )
        p.add_argument(
            "--summary-json", type=Path, default=None, help="write the run summary as JSON"
        )
        p.add_argument("--quiet", action="store_true", help="no progress lines")
        p.add_argument(
            "--report", type=Path, default=None, metavar="DIR", help="write the session report"
        )
        p.add_argument(
            "--serve",
            action="store_true",
            help="after a replay ends keep the ops endpoint and MQTT up until SIGTERM/SIGINT",
        )
        p.add_argument(
            "--tz",
            default=None,
            help="zone of a quote file's timestamps written without an offset (feed.tz)",
        )
        if name == "replay":
            p.add_argument("--input", type=Path, default=None, help="quote file (CSV or Parquet)")
        p.set_defaults(func=_run)


def run_session(
    cfg: Config, opts: RunOptions, observe: Callable[[App], None] | None = None
) -> dict[str, Any]:
    """Build the daemon for `cfg` and run it until its feed ends (or it is stopped): the one code
    path behind `inavd run`, `inavd replay` and every day of `inavd backtest` / `inavd sweep`.
    `observe` sees the built app before it runs (a backtest subscribes to the bus; it changes
    nothing the daemon does)."""
    install_event_loop_policy()
    app = App(cfg, opts)
    if observe is not None:
        observe(app)
    return asyncio.run(app.run())


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    if args.tz is not None:
        feed = cfg.settings.feed.model_copy(update={"tz": args.tz})
        cfg = cfg.model_copy(update={"settings": cfg.settings.model_copy(update={"feed": feed})})
    if getattr(args, "input", None) is not None:
        feed = cfg.settings.feed.model_copy(update={"path": str(args.input), "kind": "replay"})
        cfg = cfg.model_copy(update={"settings": cfg.settings.model_copy(update={"feed": feed})})
    if args.speed is not None and args.speed < 0:
        raise ConfigError("--speed must be >= 0")
    if args.report:
        from inavd.analysis import pyplot

        pyplot()  # without the optional plotting extra: one line now, not after the run
    configure_logging(cfg.settings.run.log_level)
    opts = RunOptions(
        speed=args.speed, summary_json=args.summary_json, quiet=args.quiet, serve=args.serve
    )
    summary = run_session(cfg, opts)
    print(render_text(summary))
    if args.summary_json:
        args.summary_json.parent.mkdir(parents=True, exist_ok=True)
        args.summary_json.write_text(json.dumps(summary, indent=2))
    if args.report:
        from inavd.analysis.report import write_report  # matplotlib only when asked for

        index = write_report(Path(summary["journal_path"]), args.report, summary["run_id"])
        print(f"report: {index}")
    return 0
