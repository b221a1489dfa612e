"""Signed MQTT control commands are applied; unsigned, forged and replayed ones are refused."""

from __future__ import annotations

from pathlib import Path

import aiomqtt
import orjson
import pytest
from tests.kit.opskit import make_app, mqtt_of, running, unique_prefix, watch, write_config
from tests.kit.waits import until

from inavd.domain.events import TradingState
from inavd.publish.control import sign

SECRET = "s3cret-for-tests"


@pytest.mark.slow
async def test_signed_commands_work_unsigned_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INAVD_MQTT__CONTROL__SECRET", SECRET)  # secrets come from the environment
    prefix = unique_prefix()
    mqtt = {"enabled": True, "topic_prefix": prefix, "instance": "c", "control": {"enabled": True}}
    app = make_app(write_config(tmp_path, {"mqtt": mqtt}), serve=True)
    topic = f"{prefix}/c/control"
    pub = mqtt_of(app)
    async with (
        watch(f"{prefix}/c/control/result") as results,
        running(app),
        aiomqtt.Client("127.0.0.1", 1883) as client,
    ):
        await until(lambda: pub.connected, within=15)

        async def send(payload: bytes, n: int) -> dict[str, object]:
            await client.publish(topic, payload, qos=1)
            await until(lambda: len(results.messages) >= n, within=5)
            return results.messages[n - 1][1]

        unsigned = orjson.dumps({"command": "halt", "ts": 1, "nonce": "x"})
        assert (await send(unsigned, 1))["reason"] == "unsigned"
        forged = sign("wrong-secret", topic, "halt", "n1")
        assert (await send(forged, 2))["reason"] == "bad_signature"
        assert (await send(b"not json", 3))["reason"] == "malformed"
        other_instance = sign(SECRET, f"{prefix}/other/control", "halt", "n2")
        assert (await send(other_instance, 4))["reason"] == "bad_signature"
        assert app.trading_state.state is TradingState.ACTIVE

        ok = await send(sign(SECRET, topic, "pause", "n3"), 5)
        assert ok["accepted"] is True and ok["trading_state"] == "halted"
        assert app.trading_state.state.value == "halted"
        assert (await send(sign(SECRET, topic, "pause", "n3"), 6))["reason"] == "replayed"
        assert (await send(sign(SECRET, topic, "resume", "n4", ts=1.0), 7))["reason"] == "stale"
        assert (await send(sign(SECRET, topic, "reduce-only", "n5"), 8))["accepted"] is True
        assert app.trading_state.state.value == "reducing"
        assert (await send(sign(SECRET, topic, "resume", "n6"), 9))["trading_state"] == "active"
        assert pub.control_rejected == {
            "unsigned": 1,
            "bad_signature": 2,
            "malformed": 1,
            "replayed": 1,
            "stale": 1,
        }


@pytest.mark.slow
async def test_control_is_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INAVD_MQTT__CONTROL__SECRET", SECRET)  # a valid secret, but not enabled
    prefix = unique_prefix()
    app = make_app(
        write_config(
            tmp_path, {"mqtt": {"enabled": True, "topic_prefix": prefix, "instance": "d"}}
        ),
        serve=True,
    )
    topic = f"{prefix}/d/control"
    async with running(app), aiomqtt.Client("127.0.0.1", 1883) as client:
        await until(lambda: mqtt_of(app).connected, within=15)
        await client.publish(topic, sign(SECRET, topic, "halt", "n2"), qos=1)
        await until(lambda: app.core.closed, within=15)
        assert app.trading_state.state is TradingState.ACTIVE
        assert mqtt_of(app).control_accepted == 0
