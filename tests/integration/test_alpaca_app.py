"""The daemon with Alpaca adapters end to end against the local server: live opt-in, keys kept out
of logs, reference data from snapshots or a file, and `inavd record` → `inavd replay`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import structlog.testing
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer
from tests.kit.paths import DEFAULT_CONFIG, DEFAULT_UNIVERSE
from tests.kit.waits import until

from inavd.app import App, RunOptions
from inavd.calendar import previous_session_day, session_for
from inavd.cli import main
from inavd.clock import ns_to_ny
from inavd.commands.record import record
from inavd.feeds.columns import write_quote_table
from inavd.feeds.sample import sample_session_path
from inavd.live_config import AlpacaSettings, Credentials, ReferenceSettings
from inavd.logging import configure_logging
from inavd.ops.health import Health
from inavd.ops.metrics import Metrics
from inavd.ops.settings import OpsSettings
from inavd.reference import load_reference, report_excluded
from inavd.settings import load_config


@pytest.fixture
async def server() -> AsyncIterator[AlpacaServer]:
    s = await AlpacaServer().start()
    yield s
    await s.stop()


@pytest.fixture(autouse=True)
def fresh_logging() -> None:
    configure_logging("info")  # structlog binds sys.stderr: never a closed capture of another test


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    monkeypatch.delenv("INAVD_LIVE_TRADING", raising=False)


def write_config(tmp: Path, server: AlpacaServer, broker: str = "alpaca", **alpaca: object) -> Path:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in alpaca.items())
    text = f"""universe_file = {json.dumps(str(DEFAULT_UNIVERSE))}
[run]
data_dir = {json.dumps(str(tmp / "var"))}
[feed]
kind = "alpaca"
[broker]
kind = "{broker}"
[alpaca]
data_url = "{server.data_url}"
data_rest_url = "{server.base}"
trading_url = "{server.base}"
trade_stream_url = "{server.trade_stream_url}"
backoff_min_s = 0.05
backoff_max_s = 0.2
{extra}[reference]
source = "alpaca"
"""
    path = tmp / "live.toml"
    path.write_text(text)
    return path


def test_live_mode_refuses_without_opt_in(
    tmp_path: Path, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server = AlpacaServer()  # never started: the refusal comes before any connection
    cfg = write_config(tmp_path, server, paper=False)  # live is decided by the endpoint:
    cfg.write_text(cfg.read_text().replace(server.base, "https://api.alpaca.markets"))
    assert main(["run", "--config", str(cfg)]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("inavd: error:")]
    assert len(err) == 1
    assert "INAVD_LIVE_TRADING=yes-i-understand" in err[0]


async def test_live_app_trades_nothing_leaks_keys(
    tmp_path: Path, server: AlpacaServer, keys: None,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_logging("debug")  # bind the log output to this test's captured stdout
    cfg = load_config(write_config(tmp_path, server))
    day = ns_to_ny(time.time_ns()).date()
    while session_for(day) is None:
        day += timedelta(days=1)
    for sym in (*cfg.universe.benchmarks, *cfg.universe.funds):
        if sym != "SDS":  # one fund without a reference: excluded, never priced on a guess
            server.set_prior_close(sym, 50.0, previous_session_day(day))
    app = await asyncio.to_thread(App, cfg, RunOptions(quiet=True))  # blocking REST inside
    assert app.live and app.day == day
    priced = dict(zip(app.engine.fund_symbols, app.engine.priced, strict=True))
    assert not priced.pop("SDS") and all(priced.values())
    assert app.excluded_funds == ["SDS"]
    scrape = Metrics(app, Health(app, OpsSettings())).render().decode()
    assert "inavd_reference_excluded_funds 1.0" in scrape  # on the app's own registry
    feed_stops: list[int] = []
    stop_feed = app.feed.stop

    async def counted_stop() -> None:
        feed_stops.append(1)
        await stop_feed()

    app.feed.stop = counted_stop  # type: ignore[method-assign]
    run = asyncio.create_task(app.run())
    await server.wait_subscribed()
    await until(lambda: server.trade_auths == 1)
    now = time.time_ns()
    await server.push(
        [wire.quote("SPY", 400, 400.02, 1, 1, now), wire.quote("SH", 10, 10.01, 5, 5, now)]
    )
    await until(lambda: app.core.quotes == 2)
    app.request_stop()
    await asyncio.wait_for(run, 10)
    assert feed_stops == [1]  # shutdown stopped the live feed
    await until(lambda: not server.md.conns)
    captured = capsys.readouterr()
    text = captured.out + captured.err + caplog.text
    assert "market data connected" in text  # the logs were captured at all
    assert "fund excluded from trading" in text and '"fund": "SDS"' in text
    for secret in (KEY, SECRET):
        assert secret not in text
    creds = Credentials(KEY, SECRET)
    assert SECRET not in repr(creds) and SECRET not in str(creds) and KEY not in repr(creds)


async def test_reference_from_snapshots_file_and_exclusion(
    tmp_path: Path, server: AlpacaServer
) -> None:
    day = date(2024, 3, 1)
    server.set_prior_close("SPY", 508.08, date(2024, 2, 29))
    server.set_prior_close("SH", 11.5, date(2024, 2, 28))  # stale: not the prior session
    s = AlpacaSettings(data_rest_url=server.base)
    ref = await asyncio.to_thread(
        load_reference, ReferenceSettings(source="alpaca"), day, ("SPY", "SH", "QQQ"), s,
        Credentials(KEY, SECRET),
    )
    assert ref.prior_close == {"SPY": 508.08}
    csv = tmp_path / "ref.csv"
    csv.write_text("symbol,prior_close,prior_nav\nSPY,508.08,\nSH,11.5,11.49\nSDS,-3,\nQQQ,x,\n")
    ref = load_reference(ReferenceSettings(source="file", path=str(csv)), day, ("SPY", "SH"))
    assert ref.prior_close == {"SPY": 508.08, "SH": 11.5} and ref.prior_nav == {"SH": 11.49}
    with structlog.testing.capture_logs() as logs:
        report_excluded(["SDS", "QID"], "file")
    assert [(e["fund"], e["log_level"]) for e in logs] == [("SDS", "error"), ("QID", "error")]


@pytest.mark.slow
async def test_record_then_replay_gives_the_same_decisions(
    tmp_path: Path, server: AlpacaServer, keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = pd.read_parquet(sample_session_path()).iloc[:60_000]
    direct = tmp_path / "direct.parquet"
    write_quote_table(direct, df)
    cfg = write_config(tmp_path, server, broker="paper")
    rec = asyncio.create_task(record(cfg, tmp_path / "rec", 30.0, len(df)))
    await server.wait_subscribed()
    rows = list(zip(df["symbol"].astype(str), df["bid"], df["ask"], df["bid_size"],
                    df["ask_size"], df["ts"], strict=True))
    for k in range(0, len(rows), 100):
        await server.push([wire.quote(*r) for r in rows[k : k + 100]])
    writer = await asyncio.wait_for(rec, 30)
    assert writer.rows == len(df) and [f.name for f in writer.files] == [
        "quotes-2019-12-19.parquet"
    ]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = ["--config", str(DEFAULT_CONFIG), "--quiet"]
    for src, out in ((direct, a), (writer.files[0], b)):
        monkeypatch.setenv("INAVD_RUN__DATA_DIR", str(tmp_path / out.stem))
        args = ["replay", *base, "--input", str(src), "--summary-json", str(out)]
        assert await asyncio.to_thread(main, args) == 0
    sa, sb = json.loads(a.read_text()), json.loads(b.read_text())
    for key in ("quotes", "signals", "orders", "fills", "realized_pnl", "final_positions"):
        assert sa[key] == sb[key], key
    assert sa["quotes"] == len(df) and sa["inav_evaluations"] > 10 and sa["orders"] > 0
