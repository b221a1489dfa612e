"""Credentials inside URLs are masked everywhere; accepted command nonces outlive a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog
from tests.kit.paths import DEFAULT_CONFIG

from inavd.cli import main
from inavd.execution.journal import Journal
from inavd.execution.nonces import JournalNonces
from inavd.logging import configure_logging
from inavd.publish.control import Rejected, Verifier, sign
from inavd.publish.settings import MqttSettings
from inavd.redact import redact

URL = "mqtt://inavd:hunter2@broker.internal:1883"
TOPIC = "inavd/h/control"


def test_redact_keeps_the_user_and_drops_the_password() -> None:
    assert redact(URL) == "mqtt://inavd:***@broker.internal:1883"
    assert redact(f"cannot connect to {URL}: refused") == (
        "cannot connect to mqtt://inavd:***@broker.internal:1883: refused"
    )
    assert redact("mqtt://host:1883") == "mqtt://host:1883"
    assert redact("user@example.com") == "user@example.com"  # not a URL password


def test_url_credentials_are_used_and_masked() -> None:
    s = MqttSettings(url=URL)
    assert s.login == ("inavd", "hunter2") and s.host == "broker.internal"
    assert "hunter2" not in s.safe_url
    env = MqttSettings(url=URL, username="other", password="pw")
    assert env.login == ("other", "pw")  # the environment's login wins, whole


def test_check_config_masks_a_password_inside_the_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INAVD_MQTT__URL", URL)
    assert main(["check-config", str(DEFAULT_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert json.loads(out)["settings"]["mqtt"]["url"] == "mqtt://inavd:***@broker.internal:1883"


def test_log_lines_mask_a_password_inside_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", json=True)
    try:
        structlog.get_logger("t").warning("mqtt unavailable", url=URL, error=f"{URL}: refused")
    finally:
        structlog.reset_defaults()  # bound to this test's captured stderr: must not outlive it
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["url"] == "mqtt://inavd:***@broker.internal:1883"
    assert "hunter2" not in line["error"]


def test_a_captured_command_is_refused_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    captured = sign("k", TOPIC, "resume", "nonce-1", ts=1_000.0)
    j = Journal(path)
    v = Verifier("k", TOPIC, max_skew_s=30, store=JournalNonces(j, 60))
    assert v.verify(captured, now=1_001.0).command == "resume"
    j.close()

    j = Journal(path)  # the restarted daemon: empty memory, same journal
    v = Verifier("k", TOPIC, max_skew_s=30, store=JournalNonces(j, 60))
    with pytest.raises(Rejected) as exc:
        v.verify(captured, now=1_002.0)
    assert exc.value.reason == "replayed"
    # a fresh command 100 s later is accepted and prunes nonces older than 60 s before it
    assert v.verify(sign("k", TOPIC, "halt", "nonce-2", ts=1_100.0), now=1_100.0)
    assert j.query("SELECT nonce, ts FROM control_nonces") == [("nonce-2", 1_100.0)]
    j.close()
