"""Command line: `inavd <command>`. Each command lives in `inavd.commands.<name>` and exposes
`register(subparsers)`; the module list below is the single place that names them."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inavd.errors import InavdError

COMMAND_MODULES = (
    "run",
    "check_config",
    "version",
    "sample",
    "analysis",
    "record",
    "doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inavd",
        description="Live trading daemon for inverse and leveraged ETFs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"inavd.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"inavd.commands.{name}":
                continue  # a command module that is not part of this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except InavdError as exc:
        # user mistakes and bad input: one clear message, no traceback
        print(f"inavd: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`inavd run | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
