"""`inavd doctor` against the local Alpaca (trading REST and market-data stream), a real MQTT
broker on loopback and real sockets: what passes, what fails and why, and the keys never shown."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.kit.alpaca_server import KEY, SECRET, AlpacaServer

from inavd.cli import main

MOSQUITTO = ("127.0.0.1", 1883)


@pytest.fixture
def server(alpaca_server: AlpacaServer) -> AlpacaServer:
    return alpaca_server


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    monkeypatch.delenv("INAVD_LIVE_TRADING", raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def write_config(
    tmp: Path, server: AlpacaServer, ops_port: int, mqtt: str = "", **alpaca: object
) -> Path:
    urls = {"data_url": server.data_url, "trading_url": server.base,
            "trade_stream_url": server.trade_stream_url}  # fmt: skip
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in (urls | alpaca).items())
    mqtt_section = f'[mqtt]\nenabled = true\nurl = "{mqtt}"\n' if mqtt else ""
    text = f"""[run]
data_dir = {json.dumps(str(tmp / "var"))}
[feed]
kind = "alpaca"
[broker]
kind = "alpaca"
[risk]
short_symbols = ["SPY", "QQQ", "SQQQ"]
[ops]
enabled = true
port = {ops_port}
[alpaca]
{extra}{mqtt_section}"""
    path = tmp / "paper.toml"
    path.write_text(text)
    return path


async def doctor(cfg: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """Run the command beside the server's loop; the table as {check: "status detail"}."""
    code = await asyncio.to_thread(main, ["doctor", "--config", str(cfg)])
    out, err = capsys.readouterr()
    for secret in (KEY, SECRET):
        assert secret not in out and secret not in err
    return code, table(out)


def table(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines()[1:-1]:
        name, rest = line.split("  ", 1)
        rows[name.strip()] = " ".join(rest.split())
    return rows


async def test_a_ready_paper_account_passes_every_check(
    tmp_path: Path, server: AlpacaServer, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    mqtt = "mqtt://{}:{}".format(*MOSQUITTO)
    code, rows = await doctor(write_config(tmp_path, server, free_port(), mqtt), capsys)
    assert code == 0
    assert rows["keys"] == "ok APCA_API_KEY_ID and APCA_API_SECRET_KEY set"
    assert rows["account"] == "ok ACTIVE, equity 100,000.00 USD, shorting enabled"
    assert rows["day trading"] == (
        "ok pattern-day-trader rule does not apply (equity 100,000 ≥ 25,000 USD)"
    )
    assert rows["market clock"] == "ok open, closes 2024-03-01 16:00 ET"
    assert rows["data feed (iex)"] == "ok authenticated, 28 symbols subscribed"
    assert rows["short symbols"] == "ok SPY, QQQ, SQQQ shortable and easy to borrow"
    assert rows["mqtt"] == "ok 127.0.0.1:1883 accepts the connection"
    assert rows["ops port"].startswith("ok 127.0.0.1:")
    assert server.md.subscriptions[-1]["quotes"][:4] == ["SPY", "QQQ", "DIA", "IWM"]


async def test_wrong_keys_fail_without_showing_them(
    tmp_path: Path,
    server: AlpacaServer,
    keys: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "wrong-" + SECRET)  # checked not printed, too
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 1
    assert (
        rows["account"] == "FAIL keys refused (401): check APCA_API_KEY_ID and APCA_API_SECRET_KEY"
    )
    assert "market clock" not in rows  # every other call would be refused the same way


async def test_missing_keys(
    tmp_path: Path,
    server: AlpacaServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 1
    assert rows["keys"] == "FAIL APCA_API_KEY_ID and APCA_API_SECRET_KEY must both be set"
    assert server.requests == []


async def test_a_blocked_account_and_the_day_trade_limit(
    tmp_path: Path, server: AlpacaServer, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server.desk.trading_blocked = True
    server.desk.last_equity, server.desk.daytrade_count = 20_000.0, 3
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 1
    assert rows["account"] == "FAIL status ACTIVE, trading blocked"
    assert rows["day trading"] == (
        "warn 3 day trades in 5 sessions, equity 20,000 < 25,000 USD: 0 left"
    )
    server.desk.trading_blocked, server.desk.status = False, "ACCOUNT_UPDATED"
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 1 and rows["account"] == "FAIL status ACCOUNT_UPDATED"


async def test_the_plan_symbol_limit_and_an_insufficient_subscription(
    tmp_path: Path, server: AlpacaServer, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server.md.symbol_limit = 20  # one fewer than the universe
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 1
    assert rows["data feed (iex)"] == (
        "FAIL 405 symbol limit exceeded: the universe has 28 symbols (the free IEX plan allows 30)"
    )
    server.md.auth_error = 409
    cfg = write_config(tmp_path, server, free_port(), feed="sip")
    code, rows = await doctor(cfg, capsys)
    assert code == 1
    assert rows["data feed (sip)"] == (
        "FAIL 409 insufficient subscription for this feed:"
        ' SIP needs a paid plan; set alpaca.feed = "iex"'
    )


async def test_hard_to_borrow_short_symbols_warn_only(
    tmp_path: Path, server: AlpacaServer, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server.desk.add_assets("SQQQ", easy_to_borrow=False)
    del server.desk.assets["QQQ"]
    code, rows = await doctor(write_config(tmp_path, server, free_port()), capsys)
    assert code == 0  # trading goes on; those shorts are refused by the gates
    assert rows["short symbols"] == (
        "warn QQQ: HTTP 404/40410000: asset not found; SQQQ hard to borrow: never shorted"
    )


async def test_port_taken_mqtt_away_and_alpaca_unreachable(
    tmp_path: Path,
    server: AlpacaServer,
    keys: None,
    capsys: pytest.CaptureFixture[str],
    taken_port: int,
) -> None:
    closed = free_port()
    cfg = write_config(tmp_path, server, taken_port, f"mqtt://127.0.0.1:{closed}",
                       trading_url=f"http://127.0.0.1:{closed}",
                       data_url=f"ws://127.0.0.1:{closed}/v2/iex")  # fmt: skip
    code, rows = await doctor(cfg, capsys)
    assert code == 1
    assert rows["ops port"] == f"FAIL 127.0.0.1:{taken_port} in use"
    assert rows["mqtt"].startswith(f"warn 127.0.0.1:{closed} not reachable")
    assert rows["account"] == "FAIL unreachable: ConnectionError"


def test_a_config_without_alpaca_checks_only_local_things(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor"]) == 0  # the embedded default: replay on the paper venue
    out = capsys.readouterr().out
    assert table(out) == {
        "alpaca": "skip the config uses no Alpaca service",
        "mqtt": "skip disabled",
        "ops port": "skip ops endpoint off",
    }
    assert out.rstrip().endswith("ready to trade")
    assert main(["doctor", "--config", str(tmp_path / "missing.toml")]) == 2
