"""Config loading: every user mistake is one clear line naming file, key and reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.kit.paths import DEFAULT_CONFIG, DEFAULT_UNIVERSE

from inavd.cli import main
from inavd.errors import ConfigError
from inavd.settings import Settings, load_config


def write(tmp: Path, body: str, universe: str | None = None) -> Path:
    cfg = tmp / "c.toml"
    u = universe if universe is not None else DEFAULT_UNIVERSE.read_text()
    (tmp / "universe.toml").write_text(u)
    cfg.write_text('universe_file = "universe.toml"\n' + body)
    return cfg


def err(path: Path) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return str(exc.value)


def test_default_config_loads_frozen() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    assert cfg.settings.feed.kind == "replay" and cfg.settings.broker.kind == "paper"
    assert "SH" in cfg.universe.funds and cfg.universe.funds["SH"].leverage == -1
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        cfg.settings.feed.speed = 3  # type: ignore[misc]


def test_unknown_key(tmp_path: Path) -> None:
    msg = err(write(tmp_path, "[feed]\nspeeed = 2\n"))
    assert msg == f"{tmp_path / 'c.toml'}: feed.speeed: unknown key"


def test_wrong_type(tmp_path: Path) -> None:
    msg = err(write(tmp_path, '[inav]\ninterval_s = "often"\n'))
    assert msg.startswith(f"{tmp_path / 'c.toml'}: inav.interval_s: ")
    assert "number" in msg


def test_negative_size(tmp_path: Path) -> None:
    msg = err(write(tmp_path, "[strategies.premium_reversion]\norder_notional_usd = -5\n"))
    assert "strategies.premium_reversion.order_notional_usd" in msg
    assert "greater than 0" in msg


def test_fund_with_benchmark_outside_universe(tmp_path: Path) -> None:
    u = '[benchmarks.SPY]\n[funds.SQQQ]\nbenchmark = "QQQ"\nleverage = -3\nexpense_ratio = 0.0095\n'
    msg = err(write(tmp_path, "", universe=u))
    assert str(tmp_path / "universe.toml") in msg
    assert "benchmark 'QQQ' is not in [benchmarks]" in msg


def test_zero_leverage_refused(tmp_path: Path) -> None:
    u = '[benchmarks.SPY]\n[funds.X]\nbenchmark = "SPY"\nleverage = 0\nexpense_ratio = 0.01\n'
    assert "leverage 0.0 is not a daily multiple" in err(write(tmp_path, "", universe=u))


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[feed\nkind=1")
    assert err(bad).startswith(f"{bad}: not valid TOML")
    assert err(tmp_path / "nope.toml") == f"{tmp_path / 'nope.toml'}: file not found"


def test_secret_in_file_refused(tmp_path: Path) -> None:
    msg = err(write(tmp_path, '[broker]\nkind = "paper"\n[x]\ntoken = "abc"\n'))
    assert "x.token: secrets are read only from the environment" in msg


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INAVD_FEED__SPEED", "4")
    monkeypatch.setenv("INAVD_STRATEGIES__PREMIUM_REVERSION__ENTRY_BP", "12.5")
    cfg = load_config(write(tmp_path, "[feed]\nspeed = 1\n"))
    assert cfg.settings.feed.speed == 4
    assert cfg.settings.strategies.premium_reversion.entry_bp == 12.5
    assert cfg.settings.strategies.premium_reversion.exit_bp == 2.0  # untouched default kept


def test_cli_prints_one_line_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check-config", str(write(tmp_path, "[feed]\nkind = 'carrier-pigeon'\n"))])
    out = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out.err
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inavd: error: ") and "feed.kind" in lines[0]


def test_check_config_prints_resolved_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(DEFAULT_CONFIG)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["feed"]["kind"] == "replay"
    assert data["universe"]["funds"]["SPXU"]["leverage"] == -3


def test_user_file_layers_over_embedded_default(tmp_path: Path) -> None:
    cfg_file = tmp_path / "mine.toml"
    cfg_file.write_text("[feed]\nspeed = 2\n[strategies.premium_arb]\nthreshold_bp = 7\n")
    cfg = load_config(cfg_file)
    default = load_config(DEFAULT_CONFIG).settings
    s = cfg.settings
    assert s.feed.speed == 2 and s.feed.kind == default.feed.kind  # named key wins, rest kept
    assert s.strategies.premium_arb.threshold_bp == 7
    assert s.strategies.premium_arb.symbols == default.strategies.premium_arb.symbols
    assert s.strategies.moc_flow == default.strategies.moc_flow
    assert s.risk == default.risk and s.sizing == default.sizing
    assert s.universe_file == DEFAULT_UNIVERSE and "SPXU" in cfg.universe.funds


def test_universe_file_relative_to_the_naming_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "etc"
    sub.mkdir()
    (sub / "u.toml").write_text(
        '[benchmarks.SPY]\n[funds.SH]\nbenchmark = "SPY"\nleverage = -1\nexpense_ratio = 0.0089\n'
    )
    (sub / "c.toml").write_text(
        'universe_file = "u.toml"\n'
        "[strategies.premium_reversion]\nenabled = false\n"
        "[strategies.premium_arb]\nenabled = false\n"
        "[strategies.moc_flow]\nenabled = false\n[strategies.mean_reversion]\nenabled = false\n"
        "[strategies.vol_hedge]\nenabled = false\n"
    )
    monkeypatch.chdir(tmp_path)  # resolved against the config's folder, not the cwd
    cfg = load_config(sub / "c.toml")
    assert list(cfg.universe.funds) == ["SH"]


def test_default_config_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INAVD_CONFIG", raising=False)
    cfg = load_config(None)
    assert cfg.path == DEFAULT_CONFIG and cfg.settings.feed.path == "sample"
    assert len(cfg.universe.funds) >= 10


def test_the_environment_is_read_only_when_a_variable_names_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without any INAVD_ variable validation skips the environment source (it would find
    nothing): the settings are those the source gives; a variable in any case is still read."""
    for name in list(os.environ):
        if name.lower().startswith("inavd_"):
            monkeypatch.delenv(name)
    data = load_config().settings.model_dump()
    without = Settings(**data)
    monkeypatch.setenv("INAVD_NOT_A_SETTING", "1")  # the environment source runs, finds nothing
    assert Settings(**data) == without
    monkeypatch.setenv("inavd_feed__speed", "4")
    assert Settings(**data).feed.speed == 4.0
