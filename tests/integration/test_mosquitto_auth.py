"""The shipped Mosquitto config refuses anonymous clients and enforces the ACL: only the daemon
publishes its state, only operators publish control (a private broker on a free port)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest
from tests.kit.opskit import PrivateMosquitto, free_port
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
USERS = {"inavd": "pw-daemon", "operator": "pw-operator", "monitor": "pw-monitor"}
CONTROL, STATUS = "inavd/host1/control", "inavd/host1/status"


def shipped_config(tmp: Path, port: int) -> Path:
    """config/mosquitto.conf as shipped, with the container paths pointed into `tmp`."""
    passwd = tmp / "passwd"
    for n, (user, pw) in enumerate(USERS.items()):
        args = ["mosquitto_passwd", *(["-c"] if n == 0 else []), "-b", str(passwd), user, pw]
        subprocess.run(args, check=True, capture_output=True)
    (tmp / "data").mkdir()
    text = (ROOT / "config" / "mosquitto.conf").read_text()
    for old, new in (
        ("listener 1883", f"listener {port} 127.0.0.1"),
        ("/mosquitto/config/passwd", str(passwd)),
        ("/mosquitto/config/acl", str(ROOT / "config" / "mosquitto.acl")),
        ("/mosquitto/data/", f"{tmp / 'data'}/"),
    ):
        assert old in text, old  # the test follows the shipped file, not a copy of it
        text = text.replace(old, new)
    if os.geteuid() == 0:  # as root mosquitto would drop to user "mosquitto": no access to tmp
        text += "user root\n"
    conf = tmp / "mosquitto.conf"
    conf.write_text(text)
    return conf


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    mosq = PrivateMosquitto(port, config=shipped_config(tmp_path, port))
    mosq.start()
    try:
        yield port
    finally:
        mosq.stop()


def client(port: int, user: str | None = None, password: str | None = None) -> aiomqtt.Client:
    pw = USERS.get(user or "") if password is None else password
    return aiomqtt.Client("127.0.0.1", port, username=user, password=pw, timeout=3)


@contextlib.asynccontextmanager
async def inbox(c: aiomqtt.Client, topic: str) -> AsyncIterator[asyncio.Queue[bytes]]:
    await c.subscribe(topic, qos=1)
    q: asyncio.Queue[bytes] = asyncio.Queue()

    async def collect() -> None:
        async for m in c.messages:
            q.put_nowait(m.payload if isinstance(m.payload, bytes) else b"")

    task = asyncio.create_task(collect())
    try:
        yield q
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_anonymous_and_wrong_password_are_refused(broker: int) -> None:
    for user, pw in ((None, None), ("inavd", "wrong"), ("nobody", "pw")):
        with pytest.raises(aiomqtt.MqttError):
            async with client(broker, user, pw or ""):
                pass
    async with client(broker, "monitor"):
        pass  # a known user gets in


async def test_only_operators_publish_control(broker: int) -> None:
    async with (
        client(broker, "inavd") as daemon,
        client(broker, "operator") as op,
        client(broker, "monitor") as mon,
        inbox(daemon, CONTROL) as got,
    ):
        await mon.publish(CONTROL, b"from-monitor", qos=1)  # dropped by the broker
        await daemon.publish(CONTROL, b"from-daemon", qos=1)  # the daemon cannot either
        await op.publish(CONTROL, b"from-operator", qos=1)
        assert await asyncio.wait_for(got.get(), 3) == b"from-operator"
        await asyncio.sleep(0.3)
        assert got.empty()


async def test_only_the_daemon_publishes_its_state(broker: int) -> None:
    async with (
        client(broker, "inavd") as daemon,
        client(broker, "operator") as op,
        client(broker, "monitor") as mon,
        inbox(mon, "inavd/#") as got,
    ):
        await op.publish(STATUS, b"forged-by-operator", qos=1)
        await mon.publish(STATUS, b"forged-by-monitor", qos=1)
        await daemon.publish(STATUS, b"online", qos=1)
        assert await asyncio.wait_for(got.get(), 3) == b"online"
        await asyncio.sleep(0.3)
        assert got.empty()
