"""The paper venue matches on every quote: orders, fills and P&L do not depend on the feed's batch
size or on pacing, and a market order fills at the first quote at or after submit + latency."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.kit.paths import DEFAULT_CONFIG

from inavd.app import App, RunOptions
from inavd.cli import main
from inavd.core import Core
from inavd.execution.resume import ReplayResume
from inavd.feeds.sample import sample_session_path
from inavd.settings import load_config

ORDERS = (
    "SELECT client_order_id, ts_ns, symbol, side, qty, order_type, time_in_force, status,"
    " filled_qty, avg_fill_price, updated_ns FROM orders WHERE run_id=? ORDER BY seq"
)
FILLS = (
    "SELECT f.ts_ns, f.client_order_id, f.symbol, f.side, f.qty, f.price, f.fee_usd FROM fills f"
    " WHERE run_id=? ORDER BY f.ts_ns, f.rowid"
)


@pytest.fixture(scope="module")
def last_45_minutes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    df = pd.read_parquet(sample_session_path())
    df = df[df["ts"] >= df["ts"].iloc[-1] - 45 * 60 * 10**9]  # 15:15 to the close
    path = tmp_path_factory.mktemp("quotes") / "close.parquet"
    df.to_parquet(path, index=False)
    return path


def replay(tmp: Path, quotes: Path, mp: pytest.MonkeyPatch, run_id: str, **env: str) -> dict:
    mp.setenv("INAVD_STRATEGIES__MOC_FLOW__ENABLED", "true")  # off by default; trades the close
    mp.setenv("INAVD_RUN__DATA_DIR", str(tmp))
    mp.setenv("INAVD_RUN__RUN_ID", run_id)
    for k, v in env.items():
        mp.setenv(f"INAVD_FEED__{k.upper()}", v)
    out = tmp / f"{run_id}.json"
    args = ["replay", "--config", str(DEFAULT_CONFIG), "--input", str(quotes), "--quiet"]
    assert main([*args, "--summary-json", str(out)]) == 0
    for k in env:
        mp.delenv(f"INAVD_FEED__{k.upper()}")
    summary: dict = json.loads(out.read_text())
    return summary


def rows(db: Path, sql: str, run_id: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as c:
        return [tuple(str(v).replace(run_id, "RUN") for v in r) for r in c.execute(sql, (run_id,))]


@pytest.mark.slow
def test_batch_size_and_pacing_do_not_change_orders_fills_or_pnl(
    tmp_path: Path, last_45_minutes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = {
        "b64": {"batch_max": "64"},
        "b1024": {"batch_max": "1024"},
        "b65536": {"batch_max": "65536"},
        "paced": {"batch_max": "8192", "speed": "6000"},  # the day's 6.5 h in about 4 s
    }
    summaries = {
        rid: replay(tmp_path, last_45_minutes, monkeypatch, rid, **e) for rid, e in runs.items()
    }
    db = Path(summaries["b64"]["journal_path"])
    base = summaries["b64"]
    assert base["orders"] > 10 and base["fills"] >= base["orders"] * 0.8
    for rid, s in summaries.items():
        for key in ("orders", "fills", "pnl", "turnover", "round_trips", "final_positions"):
            assert s[key] == base[key], (rid, key)
        assert rows(db, ORDERS, rid) == rows(db, ORDERS, "b64"), rid
        assert rows(db, FILLS, rid) == rows(db, FILLS, "b64"), rid


@pytest.mark.slow
def test_market_orders_fill_at_the_first_quote_after_submit_plus_latency(
    tmp_path: Path, last_45_minutes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = replay(tmp_path, last_45_minutes, monkeypatch, "lat")
    quotes = pd.read_parquet(last_45_minutes)
    quotes = quotes[(quotes["bid"] > 0) & (quotes["bid"] <= quotes["ask"])]
    latency_ns = 50 * 10**6  # [broker] latency_ms in the default config
    with sqlite3.connect(s["journal_path"]) as c:
        orders = c.execute(
            "SELECT o.client_order_id, o.ts_ns, o.symbol, min(f.ts_ns) FROM orders o"
            " JOIN fills f USING (client_order_id) WHERE o.run_id='lat' AND o.order_type='market'"
            " AND o.time_in_force='day' GROUP BY o.client_order_id"
        ).fetchall()
    assert len(orders) > 10
    delays = []
    for _coid, ts, sym, first_fill in orders:
        q = quotes[(quotes["symbol"] == sym) & (quotes["ts"] >= ts + latency_ns)]
        assert first_fill == int(q["ts"].iloc[0])  # the very first quote it could meet
        delays.append((first_fill - ts) / 1e6)
    assert min(delays) >= 50 and float(np.median(delays)) < 1_000  # ms; it was ~15,000


class Crash(Exception):
    pass


@pytest.mark.slow
async def test_after_a_crash_and_resume_the_summary_counts_the_whole_run(
    tmp_path: Path, last_45_minutes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INAVD_RUN__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("INAVD_RUN__RUN_ID", "crashy")
    monkeypatch.setenv("INAVD_FEED__PATH", str(last_45_minutes))
    monkeypatch.setenv("INAVD_FEED__BATCH_MAX", "256")
    cfg = load_config(DEFAULT_CONFIG)
    save = ReplayResume.save
    calls = 0

    def crash_later(self: ReplayResume, core: Core) -> None:
        nonlocal calls
        calls += 1
        if calls == 300:  # mid-run: orders and fills are journaled, the run is not finished
            raise Crash
        save(self, core)

    monkeypatch.setattr(ReplayResume, "save", crash_later)
    with pytest.raises(Crash):
        await App(cfg, RunOptions(quiet=True)).run()
    monkeypatch.setattr(ReplayResume, "save", save)
    journal = tmp_path / "journal.sqlite"
    with sqlite3.connect(journal) as c:
        before = c.execute("SELECT count(*) FROM orders WHERE run_id='crashy'").fetchone()[0]
    assert before > 0
    app = App(cfg, RunOptions(quiet=True))
    s = await app.run()
    with sqlite3.connect(journal) as c:
        orders, fills, fees = c.execute(
            "SELECT (SELECT count(*) FROM orders WHERE run_id='crashy'),"
            " (SELECT count(*) FROM fills WHERE run_id='crashy'),"
            " (SELECT sum(fee_usd) FROM fills WHERE run_id='crashy')"
        ).fetchone()
    assert app.collector.orders < orders  # this process saw only the part after the restart
    assert (s["orders"], s["fills"]) == (orders, fills)
    assert s["orders"] >= before + app.collector.orders
    assert s["pnl"]["fees"] >= round(fees, 2)  # every fill's fees (plus borrow over the close)
