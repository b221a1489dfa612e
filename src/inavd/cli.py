"""Command line: `inavd <command>`. Each command lives in `inavd.commands.<name>` and exposes
`register(subparsers)`; the module list below is the single place that names them."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inavd.arrow_memory import prefer_returning_pool
from inavd.errors import InavdError
from inavd.redact import redact

PYDANTIC_PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"  # pydantic's own switch (see `main`)

COMMAND_MODULES = (
    "run",
    "check_config",
    "version",
    "sample",
    "analysis",
    "record",
    "doctor",
    "backtest",
)
# Which module defines a command: a known command imports only its own module (the run command
# pulls in the whole daemon, so `inavd version` would otherwise pay for it). Anything else, and
# `--help`, registers every module.
COMMAND_MODULE_OF = {
    "run": "run",
    "replay": "run",
    "check-config": "check_config",
    "version": "version",
    "sample": "sample",
    "decay": "analysis",
    "decay-table": "analysis",
    "track": "analysis",
    "report": "analysis",
    "record": "record",
    "doctor": "doctor",
    "backtest": "backtest",
    "sweep": "backtest",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inavd",
        description="Live trading daemon for inverse and leveraged ETFs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    only = COMMAND_MODULE_OF.get(command or "")
    for name in (only,) if only else COMMAND_MODULES:
        try:
            module = importlib.import_module(f"inavd.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"inavd.commands.{name}":
                continue  # a command module that is not part of this build
            raise
        module.register(sub)
    return parser


def entry() -> int:
    """The `inavd` command (and `python -m inavd`): `main`, then every object is frozen for the
    exit. Nothing is left to collect in a process about to end, and the interpreter's final
    collection would walk everything a run built (measured: 80 ms of CPU after the default
    replay). A run then leaves without the interpreter's teardown (`_leave`). `main` itself stays
    free of both, for callers that go on (tests, tools)."""
    code = main()
    import gc

    gc.freeze()
    if COMMAND_MODULE_OF.get(sys.argv[1] if len(sys.argv) > 1 else "") == "run":
        _leave(code)
    return code


def _leave(code: int) -> None:
    """End a finished run now. Everything it wrote is closed by then (the journal, the history,
    the lock), so what the interpreter's teardown has left to do is free each object and module
    one by one: 12 ms of the default run's 19 ms exit. `atexit` handlers and the standard streams
    still run and flush as at a normal exit. Returns (the normal exit follows) while another
    thread is alive, which that exit would wait for, or when a stream cannot be flushed, which it
    reports."""
    import atexit
    import threading

    if threading.active_count() > 1:
        return
    if not _flushed():
        return
    atexit._run_exitfuncs()
    if _flushed():
        os._exit(code)


def _flushed() -> bool:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: the normal exit reports it
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    prefer_returning_pool()  # before anything imports pyarrow
    # before anything imports pydantic: no plugin found through another package's entry points
    # sees the config (keys included) validated. Setting the variable (even empty) opts back in.
    os.environ.setdefault(PYDANTIC_PLUGINS_ENV, "__all__")
    argv = list(sys.argv[1:] if argv is None else argv)
    from inavd import gcpolicy

    if argv and COMMAND_MODULE_OF.get(argv[0]) == "run":
        gcpolicy.pause()  # no collections while the daemon is imported and built
    try:
        return _dispatch(argv)
    finally:
        gcpolicy.resume()  # a run that never reached its freeze (bad config, --help)


def _dispatch(argv: list[str]) -> int:
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except InavdError as exc:
        # user mistakes and bad input: one clear message, no traceback
        print(f"inavd: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`inavd run | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
