"""Start-up against Alpaca as it really fails: unreachable (waited out, one line per attempt),
wrong keys (one line, exit 2), a live endpoint without the opt-in (refused whatever `paper`
says), and keys revoked while trading (HALTED with the reason, an event and a metric)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import structlog.testing
from tests.integration.test_alpaca_app import server as server  # the fixture
from tests.integration.test_alpaca_app import write_config
from tests.integration.test_doctor import free_port
from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer, Fault
from tests.kit.market_time import shift_into_session
from tests.kit.paths import ROOT
from tests.kit.waits import until

from inavd.app import App, RunOptions
from inavd.cli import main
from inavd.domain.events import TradingState, TradingStateChanged
from inavd.domain.intents import Intent
from inavd.errors import ConfigError
from inavd.live_config import AlpacaSettings, check_live_opt_in, trading_mode
from inavd.logging import configure_logging
from inavd.ops.health import Health
from inavd.ops.metrics import Metrics
from inavd.ops.settings import OpsSettings
from inavd.settings import load_config

LIVE = "https://api.alpaca.markets"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("info")
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    monkeypatch.delenv("INAVD_LIVE_TRADING", raising=False)


def config(tmp: Path, server: AlpacaServer, reference: str = "alpaca", **alpaca: object) -> Path:
    url = alpaca.pop("trading_url", None)
    path = write_config(tmp, server, **alpaca)
    text = path.read_text() + "[execution.rate_limit]\nmax_attempts = 1\n"
    if url is not None:
        text = text.replace(f'trading_url = "{server.base}"', f"trading_url = {json.dumps(url)}")
    if reference == "file":
        csv = tmp / "ref.csv"
        csv.write_text("symbol,prior_close\nSPY,500\nSH,12.5\n")
        text = text.replace('source = "alpaca"', f'source = "file"\npath = "{csv}"')
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("paper", "url", "mode", "host"),
    [
        (True, "", "paper", "paper-api.alpaca.markets"),
        (False, "", "live", "api.alpaca.markets"),
        (True, LIVE, "live", "api.alpaca.markets"),  # the bypass the paper flag allowed
        (True, "https://API.alpaca.markets/", "live", "api.alpaca.markets"),
        (True, "https://paper-api.alpaca.markets.example.com", "live",
         "paper-api.alpaca.markets.example.com"),
        (False, "https://paper-api.alpaca.markets", "paper", "paper-api.alpaca.markets"),
        (False, "http://127.0.0.1:8080", "paper", "127.0.0.1"),
        (False, "http://127.8.0.1", "paper", "127.8.0.1"),
        (False, "http://[::1]:9", "paper", "::1"),
        (False, "http://localhost:9", "paper", "localhost"),
        (True, "http://10.0.0.5:9", "live", "10.0.0.5"),
    ],
)
def test_the_endpoint_decides_live_or_paper(
    paper: bool, url: str, mode: str, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = AlpacaSettings(paper=paper, trading_url=url)
    assert trading_mode(s) == (mode, host)
    if mode == "live":
        with pytest.raises(ConfigError, match="INAVD_LIVE_TRADING=yes-i-understand"):
            check_live_opt_in(s)
        monkeypatch.setenv("INAVD_LIVE_TRADING", "yes-i-understand")
    check_live_opt_in(s)  # paper, or live with the opt-in: allowed


def test_paper_flag_with_live_url_is_refused_and_check_config_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, AlpacaServer(), paper=True, trading_url=LIVE)  # never started
    assert main(["run", "--config", str(cfg)]) == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "api.alpaca.markets is live" in err[0]
    assert main(["check-config", str(cfg)]) == 0
    shown = json.loads(capsys.readouterr().out)["effective"]
    assert shown == {"mode": "live", "trading_host": "api.alpaca.markets", "live_opt_in": False}


async def test_unreachable_alpaca_is_waited_out_then_trading_starts(tmp_path: Path) -> None:
    server = AlpacaServer()
    server.port = free_port()  # nothing listens there yet
    cfg = load_config(config(tmp_path, server))
    with structlog.testing.capture_logs() as logs:
        build = asyncio.create_task(asyncio.to_thread(App, cfg, RunOptions(quiet=True)))
        await until(lambda: _retries(logs, "reference") >= 3, within=10)
        await server.start(server.port)
        try:
            app = await asyncio.wait_for(build, 10)
            run = asyncio.create_task(app.run())
            await server.wait_subscribed(within=10)
            await until(lambda: server.trade_auths == 1)
            app.request_stop()
            await asyncio.wait_for(run, 10)
        finally:
            await server.stop()
    lines = [e for e in logs if e["event"] == "alpaca unreachable at start-up: retrying"]
    assert [e["attempt"] for e in lines] == list(range(1, len(lines) + 1))  # one line each
    assert all(e["error"].startswith("ConnectionError") for e in lines)
    assert all(0.025 <= e["retry_in_s"] <= 0.2 for e in lines)  # backoff_min/2 .. backoff_max
    assert not any("exc_info" in e or "exception" in e for e in logs)  # no traceback anywhere


async def test_broker_unreachable_waits_not_ready_and_a_stop_ends_the_wait(
    tmp_path: Path,
) -> None:
    server = AlpacaServer()
    server.port = free_port()
    cfg = load_config(config(tmp_path, server, reference="file"))
    app = await asyncio.to_thread(App, cfg, RunOptions(quiet=True))
    with structlog.testing.capture_logs() as logs:
        run = asyncio.create_task(app.run())
        await until(lambda: _retries(logs, "account") >= 2, within=10)
        assert not app.router.ready and not app.feed.ready  # type: ignore[attr-defined]
        app.request_stop()
        summary = await asyncio.wait_for(run, 5)
    assert summary["orders"] == 0 and summary["quotes"] == 0


@pytest.mark.parametrize("reference", ["alpaca", "file"])
async def test_wrong_keys_are_one_line_and_exit_2(
    tmp_path: Path, server: AlpacaServer, reference: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "wrong-secret")
    cfg = config(tmp_path, server, reference=reference)
    assert await asyncio.to_thread(main, ["run", "--config", str(cfg), "--quiet"]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    err = _errors(out.err)
    step = "reference" if reference == "alpaca" else "account"
    assert len(err) == 1 and f"alpaca refused the keys ({step}" in err[0]
    assert "APCA_API_KEY_ID / APCA_API_SECRET_KEY" in err[0] and "wrong-secret" not in err[0]
    unit = (ROOT / "deploy" / "systemd" / "inavd.service").read_text()
    prevent = [x for x in unit.splitlines() if x.startswith("RestartPreventExitStatus=")]
    assert "2" in prevent[0].split("=")[1].split()  # systemd does not loop on it


async def test_keys_revoked_while_trading_halt_with_reason_event_and_metric(
    tmp_path: Path, server: AlpacaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shift_into_session(monkeypatch)  # the session gate lets a market order through
    cfg = load_config(config(tmp_path, server, reference="file"))
    app = await asyncio.to_thread(App, cfg, RunOptions(quiet=True))
    changes: list[TradingStateChanged] = []
    app.bus.subscribe(TradingStateChanged, changes.append)
    run = asyncio.create_task(app.run())
    await server.wait_subscribed()
    await until(lambda: app.router.ready and app.broker.gate(None) is None)  # type: ignore[arg-type]
    now = time.time_ns()
    await server.push([wire.quote("SH", 12.5, 12.51, 100, 100, now + k) for k in range(30)])
    await until(lambda: app.core.quotes == 30)  # the spread gate wants some history
    server.faults.append(Fault("POST", "/v2/orders", 403, body={"message": "forbidden."}))
    order = await app.router.handle(Intent("test", "SH", 10, "probe"))
    assert order is None
    assert app.trading_state.state is TradingState.HALTED
    assert "broker refused" in app.trading_state.reason and "403" in app.trading_state.reason
    assert [c.state for c in changes] == [TradingState.HALTED]
    scrape = Metrics(app, Health(app, OpsSettings())).render().decode()
    assert "inavd_trading_state 2.0" in scrape and "inavd_broker_refused_total 1.0" in scrape
    assert app.router.stats.lost == 0  # refused, not "lost"
    app.request_stop()
    await asyncio.wait_for(run, 10)


def _retries(logs: list[dict[str, object]], step: str) -> int:
    return sum(1 for e in logs if e.get("step") == step and "retrying" in str(e["event"]))


def _errors(stderr: str) -> list[str]:
    """The command's own error lines (the log lines go to stderr too)."""
    return [line for line in stderr.splitlines() if line.startswith("inavd: error:")]


def test_paper_config_trades_the_default_strategies_with_ops_on() -> None:
    from inavd.settings import DEFAULT_CONFIG

    cfg = load_config(ROOT / "config" / "paper.toml")
    default = load_config(DEFAULT_CONFIG)
    s = cfg.settings
    assert s.feed.kind == "alpaca" and s.broker.kind == "alpaca"
    assert s.strategies == default.settings.strategies and s.strategies.premium_reversion.enabled
    assert s.risk == default.settings.risk and cfg.universe == default.universe
    assert s.ops.enabled == "auto" and s.ops.host == "127.0.0.1"  # on: the feed is live
    assert default.settings.ops.enabled == "auto"  # off for the default replay
