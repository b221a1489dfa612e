"""Start-up stays lean: a command imports only what it uses (numbers in bench/RESULTS.md)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "pandas", "numpy", "scipy", "arch", "matplotlib", "pyarrow", "exchange_calendars", "dask",
    "statsmodels",
)  # fmt: skip


def _loaded_after(code: str) -> set[str]:
    probe = (
        "import sys\n"
        f"{code}\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    return set(filter(None, out.removeprefix("loaded:").split(",")))


def test_version_imports_nothing_heavy() -> None:
    assert _loaded_after("from inavd.cli import main; main(['version'])") == set()


def test_daemon_never_imports_plots_or_the_synthetic_generator() -> None:
    loaded = _loaded_after("import inavd.app")
    assert not loaded & {"scipy", "matplotlib", "arch", "pandas", "exchange_calendars", "dask"}
    assert "numpy" in loaded  # the probe itself can see imports


def test_a_bundled_replay_reads_its_inputs_without_pandas() -> None:
    """The default run's inputs: the session file streamed from Arrow, the calendar table, the
    prior closes (reference) and the official closes (closing auction) of the bundled day."""
    loaded = _loaded_after(
        "from inavd.feeds.sample import SAMPLE_DAY, SAMPLE_FUNDS, reference_for\n"
        "from inavd.feeds.sample import sample_dir, sample_session_path\n"
        "from inavd.brokers.paper_close import official_closes\n"
        "from inavd.corporate_actions import bundled_actions\n"
        "from inavd.feeds.replay import ReplayFeed\n"
        "import asyncio\n"
        "syms = ('SPY', 'QQQ', 'IWM', *SAMPLE_FUNDS)\n"
        "feed = ReplayFeed(sample_session_path(), {s: i for i, s in enumerate(syms)})\n"
        "async def drain():\n"
        "    return sum([len(b) async for b in feed.batches()])\n"
        "assert asyncio.run(drain()) == len(feed) > 1_000_000\n"
        "assert set(reference_for(SAMPLE_DAY, syms).prior_close) >= set(syms)\n"
        "assert set(official_closes(SAMPLE_DAY, syms, sample_dir())) == set(syms)\n"
        "assert bundled_actions().on(SAMPLE_DAY, syms) == {}\n"
    )
    assert loaded == {"numpy", "pyarrow"}


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_is_in_the_fast_map() -> None:
    """A command missing from the map still works (every module is registered), but then
    `inavd <it>` imports the whole daemon: keep the map complete and right."""
    from inavd.cli import COMMAND_MODULE_OF, build_parser

    assert _commands(build_parser()) == set(COMMAND_MODULE_OF)
    for name in COMMAND_MODULE_OF:
        assert name in _commands(build_parser(name))


def test_unknown_command_still_lists_every_command() -> None:
    from inavd.cli import build_parser

    text = build_parser("no-such-command").format_help()
    for name in ("run", "replay", "version", "check-config", "report", "record"):
        assert name in text


def test_the_default_run_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    """`inavd run` in an empty folder (embedded config, the bundled day, paper venue, SQLite
    journal): built, run to the end of the day and summarised without pandas, exchange_calendars,
    scipy, arch, matplotlib, statsmodels or dask; with its usual result."""
    probe = (
        "import os, sys\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from inavd.cli import main\n"
        "assert main(['run', '--quiet']) == 0\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "orders                      26  fills 29" in p.stdout
    assert "P&L after costs        -114.26 USD" in p.stdout
    loaded = set(filter(None, p.stdout.splitlines()[-1].removeprefix("loaded:").split(",")))
    assert loaded == {"numpy", "pyarrow"}, loaded


def test_the_package_version_is_the_installed_one() -> None:
    """`inavd.__version__` is written in the package (no metadata look-up at import) and the
    build reads it from there."""
    from importlib.metadata import version

    import inavd

    assert version("inavd") == inavd.__version__
    assert _loaded_after("import inavd; import importlib, sys\n"
                         "assert 'importlib.metadata' not in sys.modules") == set()  # fmt: skip
