"""The default run end to end, its determinism, and replays of CSV and Parquet files."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from tests.kit.paths import DEFAULT_CONFIG

from inavd.cli import main
from inavd.execution.snapshots import read_snapshots
from inavd.feeds.sample import sample_session_path

SUMMARY_KEYS = {
    "quotes",
    "quotes_rejected",
    "inav_evaluations",
    "orders",
    "fills",
    "realized_pnl",
    "final_positions",
    "premium_bp",
    "journal_path",
    "signals",
    "denials",
}


def run(tmp: Path, monkeypatch: pytest.MonkeyPatch, *extra: str, run_id: str = "") -> dict:
    # the closing-flow signal is off by default (it loses after costs); on here, so the run
    # exercises the closing auction
    monkeypatch.setenv("INAVD_STRATEGIES__MOC_FLOW__ENABLED", "true")
    monkeypatch.setenv("INAVD_RUN__DATA_DIR", str(tmp))
    monkeypatch.setenv("INAVD_RUN__RUN_ID", run_id)
    out = tmp / f"summary-{run_id or 'x'}.json"
    assert (
        main(
            ["run", "--config", str(DEFAULT_CONFIG), "--quiet", "--summary-json", str(out), *extra]
        )
        == 0
    )
    return json.loads(out.read_text())


def _closing_auction_at_the_official_close(db: Path, summary: dict) -> None:
    """The day's MOC fills print at the official closes of 2019-12-19 (the bundled daily data),
    carry their sale fees, and the summary marks at the same closes."""
    with sqlite3.connect(db) as c:
        moc = c.execute(
            "SELECT o.symbol, o.side, f.qty, f.price, f.fee_usd FROM fills f JOIN orders o"
            " USING (client_order_id) WHERE f.run_id='runa' AND o.time_in_force='cls'"
        ).fetchall()
    official = {"SPY": 320.90, "QQQ": 210.86, "IWM": 165.73, "SH": 24.27, "PSQ": 24.88}
    assert moc and all(sym in official for sym, *_ in moc)
    for sym, side, qty, price, fee in moc:
        assert price == pytest.approx(official[sym])
        # a sale pays SEC 20.70 per million (rounded up to the cent) and TAF 0.000119 a share
        sec, taf = qty * price * 20.70e-6, qty * 0.000119
        expected = math.ceil(sec * 100) / 100 + math.ceil(taf * 100) / 100 if side == "sell" else 0
        assert fee == pytest.approx(expected)
    pnl = summary["pnl"]
    assert summary["marked_at"] == "official_close"
    assert pnl["total"] == pytest.approx(
        pnl["realized"] + pnl["unrealized"] - pnl["fees"], abs=0.02
    )
    parts = sum(p["total"] for p in pnl["by_strategy"].values())
    assert parts == pytest.approx(pnl["total"], abs=0.05)


def rows(db: Path, sql: str, run_id: str) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return [tuple(str(v).replace(run_id, "RUN") for v in r) for r in c.execute(sql, (run_id,))]


@pytest.mark.slow
def test_default_run_twice_is_deterministic_and_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = run(tmp_path, monkeypatch, run_id="runa")
    assert a.keys() >= SUMMARY_KEYS
    _closing_auction_at_the_official_close(Path(a["journal_path"]), a)
    assert a["quotes"] >= 1_000_000
    assert a["quotes_rejected"] > 0 and a["quotes_rejected_by_reason"]["crossed"] > 0
    assert (
        a["inav_evaluations"] == 390 * 4
    )  # every 15 s of the 6.5 h session, the last at the close
    # real fund quotes (2019-12-19): 42 orders, fewer than the model-driven session's noise gave
    assert a["orders"] > 20 and a["fills"] >= a["orders"] * 0.9
    assert set(a["premium_bp"]) >= {"SH", "SDS", "SPXU", "SQQQ", "TZA"}
    sh = a["premium_bp"]["SH"]
    assert sh["min"] < sh["mean"] < sh["max"] and abs(sh["mean"]) < 5
    b = run(tmp_path, monkeypatch, run_id="runb")
    db = Path(a["journal_path"])
    assert db == Path(b["journal_path"])
    for key in ("orders", "fills", "realized_pnl", "final_positions", "premium_bp", "quotes"):
        assert a[key] == b[key]
    queries = [
        "SELECT client_order_id, ts_ns, symbol, side, qty, status, filled_qty, avg_fill_price"
        " FROM orders WHERE run_id=? ORDER BY ts_ns, client_order_id",
        "SELECT ts_ns, client_order_id, symbol, side, qty, price FROM fills WHERE run_id=?"
        " ORDER BY ts_ns, execution_id",
    ]
    for q in queries:
        ra, rb = rows(db, q, "runa"), rows(db, q, "runb")
        assert ra and ra == rb
    # the iNAV history: every fund at every evaluation, identical across the two runs
    ha, hb = read_snapshots(db, "runa"), read_snapshots(db, "runb")
    assert len(ha) == a["inav_evaluations"] * len(a["premium_bp"])
    pd.testing.assert_frame_equal(ha, hb)
    assert a["storage"]["snapshot_rows"] == len(ha)
    assert 0 < a["storage"]["wal_peak_bytes"] <= a["storage"]["wal_max_bytes"]
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _small_file(tmp: Path, suffix: str) -> Path:
    df = pd.read_parquet(sample_session_path())
    df = df[df["ts"] < df["ts"].iloc[0] + 20 * 60 * 10**9]  # the first 20 minutes
    path = tmp / f"quotes{suffix}"
    if suffix == ".csv":
        df = df.assign(ts=pd.to_datetime(df["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_replay_of_a_recorded_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = _small_file(tmp_path, suffix)
    s = run(tmp_path, monkeypatch, "--quiet", run_id="f" + suffix[1:4])
    assert s["quotes"] > 1_000_000  # sanity: the default run is the full session
    monkeypatch.setenv("INAVD_RUN__RUN_ID", "")
    out = tmp_path / "s.json"
    code = main(
        [
            "replay",
            "--config",
            str(DEFAULT_CONFIG),
            "--input",
            str(path),
            "--quiet",
            "--summary-json",
            str(out),
        ]
    )
    assert code == 0
    small = json.loads(out.read_text())
    assert 0 < small["quotes"] < 200_000
    assert small["inav_evaluations"] == 20 * 4


def test_replay_of_a_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "q.csv"
    bad.write_text("ts,symbol,bid\n1,SH,2\n")
    assert main(["replay", "--config", str(DEFAULT_CONFIG), "--input", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "missing column(s) ask, bid_size, ask_size" in err


def test_synthetic_feed_on_another_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INAVD_FEED__KIND", "synthetic")
    monkeypatch.setenv("INAVD_FEED__SESSION", "2019-12-23")
    s = run(tmp_path, monkeypatch, run_id="syn")
    assert s["session"] == "2019-12-23"
    assert s["quotes"] > 900_000 and s["inav_evaluations"] == 390 * 4
    assert s["premium_bp"]["SH"]["min"] < 0 < s["premium_bp"]["SH"]["max"]


async def test_sim_clock_paces_at_the_requested_speed() -> None:
    import time

    from inavd.clock import SimClock

    clock = SimClock(0, speed=100.0)
    t0 = time.monotonic()
    await clock.sleep_until(0)
    await clock.sleep_until(5 * 10**9)  # 5 s of data at 100× ≈ 50 ms of wall time
    elapsed = time.monotonic() - t0
    assert clock.now_ns() == 5 * 10**9
    assert 0.045 <= elapsed < 1.0


def test_ex_dividend_day_is_adjusted_and_journaled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3 as sq

    monkeypatch.setenv("INAVD_FEED__KIND", "synthetic")
    monkeypatch.setenv("INAVD_FEED__SESSION", "2019-12-20")  # SPY ex-dividend 1.57 USD
    s = run(tmp_path, monkeypatch, run_id="exdiv")
    adj = {a["symbol"]: a for a in s["reference"]["adjustments"]}
    assert adj["SPY"]["cash_amount"] == 1.57 and adj["SPY"]["after"] == pytest.approx(319.33)
    for fund in ("SPXU", "UPRO", "SH"):  # no L × 49 bp false premium
        assert abs(s["premium_bp"][fund]["mean"]) < 5, fund
    with sq.connect(Path(s["journal_path"])) as c:
        (doc,) = c.execute("SELECT summary_json FROM runs WHERE run_id='exdiv'").fetchone()
    assert json.loads(doc)["reference"]["adjustments"] == s["reference"]["adjustments"]
