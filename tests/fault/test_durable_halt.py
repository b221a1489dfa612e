"""A daily-loss HALT survives kill -9: the restarted daemon is still HALTED and orders nothing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from inavd.app import App, RunOptions
from inavd.domain.events import TradingState
from inavd.settings import load_config
from tests.fault.scenario import make_quotes, q, recover, spawn, wait_exit, write_config

HALTED = "SELECT count(*) FROM trading_states WHERE state='halted' AND reason LIKE 'daily loss%'"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_daily_loss_halt_survives_kill9_and_restart(tmp_path: Path) -> None:
    quotes = tmp_path / "quotes.parquet"
    make_quotes(quotes, step=40)
    cfg = write_config(tmp_path, "loss", quotes)
    # the first fill marked at the mid loses half a spread: far more than 1 USD
    text = cfg.read_text()
    assert "\ndaily_loss_limit_usd = 5_000\n" in text
    cfg.write_text(text.replace("\ndaily_loss_limit_usd = 5_000\n", "\ndaily_loss_limit_usd = 1\n"))
    journal = tmp_path / "state" / "journal.sqlite"

    pid = spawn(cfg)
    end = time.monotonic() + 60
    while not (journal.exists() and q(journal, HALTED)[0][0]):
        assert wait_exit(pid, 0.05) is None, "the daemon ended before the daily-loss halt"
        assert time.monotonic() < end, "no daily-loss halt within 60 s"
    os.kill(pid, signal.SIGKILL)
    assert wait_exit(pid, 30) == -signal.SIGKILL
    recover(journal)  # what the restart's journal holds, the redo log applied
    orders_at_kill = q(journal, "SELECT count(*) FROM orders")[0][0]
    assert orders_at_kill > 0

    app = App(load_config(cfg), RunOptions(quiet=True))  # what the restart builds
    assert app.trading_state.state is TradingState.HALTED
    assert app.trading_state.reason.startswith("restored: daily loss limit: P&L -")
    app.journal.close()

    pid = spawn(cfg)  # the restart replays the rest of the day, halted
    assert wait_exit(pid, 90) == 0, cfg.with_suffix(".log").read_text()[-2000:]
    assert q(journal, "SELECT count(*) FROM orders")[0][0] == orders_at_kill
    assert q(journal, "SELECT ended_ns IS NOT NULL FROM runs WHERE run_id='loss'") == [(1,)]
    states = q(journal, "SELECT state, reason FROM trading_states WHERE run_id='loss' ORDER BY id")
    assert states[-1][0] == "halted" and states[-1][1].startswith("restored: daily loss")
