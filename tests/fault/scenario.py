"""A short replay that trades icebergs and MOC orders against a durable paper venue."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import inavd.app
import inavd.commands.run  # noqa: F401
from inavd.execution.journal import Journal
from inavd.feeds.columns import write_quote_table
from inavd.feeds.sample import build_sample_session
from inavd.settings import load_config
from inavd.universe import build_universe
from tests.kit.paths import DEFAULT_UNIVERSE

# premium reversion's icebergs are often still working its exit when the exit at close is due
# (children fill on the next quote of their fund, tens of seconds apart in this thinned data), so
# the closing auction is exercised by the closing-flow signal, which enters at 15:40 ET and exits
# in the auction
CONFIG = """
universe_file = "{universe}"
[run]
data_dir = "{state}"
run_id = "{run_id}"
progress = false
log_level = "error"
[feed]
kind = "replay"
path = "{quotes}"
batch_max = 25
[broker]
kind = "paper"
latency_ms = 0
[strategies.premium_reversion]
enabled = true
symbols = []
entry_bp = 3
exit_bp = 1
order_notional_usd = 60000
flat_before_close_min = 0
[strategies.premium_arb]
enabled = false
[strategies.moc_flow]
enabled = true
[strategies.mean_reversion]
enabled = false
[strategies.vol_hedge]
enabled = false
[strategies.decay_monitor]
enabled = false
[execution]
paper_state = "venue.sqlite"
[execution.iceberg]
enabled = true
min_qty = 300
display_qty = 100
randomize_pct = 0.3
[execution.moc]
exit_at_close = ["premrev", "mocflow"]
exit_lead_s = 300
[risk]
spread_k = 100
min_displayed_shares = 0
max_quote_age_s = 900
max_inav_age_s = 900
max_order_notional_usd = 1_000_000
max_position_usd = 1_000_000
max_orders_per_minute = 1000
max_gross_usd = 500_000
max_net_usd = 250_000
daily_loss_limit_usd = 5_000
"""


def make_quotes(path: Path, step: int) -> int:
    """Every `step`-th quote of the 2019-12-19 session with model-driven fund quotes (the
    `--synthetic` option): their premium noise crosses the entry and exit thresholds all day, so
    each run keeps placing, slicing and closing orders long enough to be killed many times. (The
    real session's premiums are persistent levels: a premium strategy trades them less.)"""
    universe = build_universe(load_config(None).universe)
    df = build_sample_session(universe, synthetic=True).iloc[::step]
    write_quote_table(path, df.reset_index(drop=True))
    return len(df)


def write_config(tmp: Path, run_id: str, quotes: Path) -> Path:
    cfg = tmp / f"{run_id}.toml"
    cfg.write_text(
        CONFIG.format(
            universe=DEFAULT_UNIVERSE.as_posix(),
            state=(tmp / "state").as_posix(),
            run_id=run_id,
            quotes=quotes.as_posix(),
        )
    )
    return cfg


def recover(journal: Path) -> None:
    """Open and close the journal as a restart would: the commits a killed daemon left in the
    redo log reach SQLite. Only once the daemon is dead (a second writer would apply them too)."""
    if journal.exists():
        Journal(journal).close()


def q(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchall()


def net(rows: list[tuple]) -> dict[str, float]:
    return {s: round(v, 6) for s, v in rows if abs(v) > 1e-9}


POSITIONS = (
    "SELECT symbol, sum(CASE side WHEN 'buy' THEN qty ELSE -qty END) FROM fills GROUP BY symbol"
)


def spawn(cfg: Path) -> int:
    """Fork a daemon (the parent has imported everything already: a restart costs no imports)."""
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            log = open(cfg.with_suffix(".log"), "a")  # noqa: SIM115 - the child exits below
            sys.stdout = sys.stderr = log
            from inavd.cli import main

            code = main(["run", "--config", str(cfg), "--quiet"])
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    return pid


def wait_exit(pid: int, timeout_s: float) -> int | None:
    """Exit status, or None if still running after `timeout_s`."""
    end = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= end:
            return None
        time.sleep(0.002)
