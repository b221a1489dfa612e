"""`inavd doctor [--config FILE]`: preflight checks before a session; exit 1 if one would stop
trading, 2 for a config mistake."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from inavd.doctor.report import exit_code, render
from inavd.doctor.run import run_checks
from inavd.live_config import check_live_opt_in
from inavd.settings import load_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "doctor", help="check keys, account, market data, MQTT and ports before trading"
    )
    p.add_argument("--config", type=Path, default=None, help="config file (default: embedded)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    check_live_opt_in(cfg.settings.alpaca)  # the same refusal `inavd run` would give
    checks = asyncio.run(run_checks(cfg))
    print(render(checks))
    return exit_code(checks)
