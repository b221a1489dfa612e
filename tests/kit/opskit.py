"""Helpers for the ops/MQTT tests: per-test configs, free ports, a background app, an MQTT watcher
and a private Mosquitto that can be stopped and started."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import orjson

from inavd.app import App, RunOptions
from inavd.ops.server import OpsService
from inavd.publish.mqtt import MqttPublisher
from inavd.settings import load_config
from tests.kit.paths import DEFAULT_UNIVERSE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_prefix() -> str:
    return f"inavdtest-{uuid.uuid4().hex[:10]}"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


OTHER_STRATEGIES = ("premium_arb", "moc_flow", "mean_reversion", "vol_hedge", "decay_monitor")


def write_config(tmp: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """A config in `tmp` replaying the bundled session, journaling under `tmp/var`."""
    shutil.copy(DEFAULT_UNIVERSE, tmp / "universe.toml")
    lines = ['universe_file = "universe.toml"', "[run]", f"data_dir = {_toml_value(tmp / 'var')}"]
    # the file is layered over the embedded default: keep only premium reversion trading, so the
    # side-channel tests stay small and fast
    quiet = {s: {"enabled": False} for s in OTHER_STRATEGIES}
    sections = {**sections, "strategies": {**quiet, **sections.get("strategies", {})}}
    for name, body in sections.items():
        nested = {k: v for k, v in body.items() if isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in body.items() if not isinstance(v, dict)]
        for sub, sub_body in nested.items():
            lines.append(f"[{name}.{sub}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in sub_body.items()]
    path = tmp / "inavd.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def make_app(config: Path, serve: bool = False) -> App:
    return App(load_config(config), RunOptions(quiet=True, serve=serve))


def ops_of(app: App) -> OpsService:
    return next(s for s in app.services if isinstance(s, OpsService))


def mqtt_of(app: App) -> MqttPublisher:
    return next(s for s in app.services if isinstance(s, MqttPublisher))


@contextlib.asynccontextmanager
async def running(app: App) -> AsyncIterator[asyncio.Task[dict[str, Any]]]:
    """Run the app in the background; on exit request a stop and wait for a clean end."""
    task = asyncio.create_task(app.run())
    try:
        yield task
    finally:
        app.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)


@dataclass
class Watcher:
    """Collects every message under a topic filter (retained ones included)."""

    port: int = 1883
    messages: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)

    def on(self, suffix: str) -> list[dict[str, Any]]:
        return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def last(self, suffix: str) -> dict[str, Any] | None:
        found = self.on(suffix)
        return found[-1] if found else None


@contextlib.asynccontextmanager
async def watch(topic_filter: str, port: int = 1883) -> AsyncIterator[Watcher]:
    w = Watcher(port)
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"w-{uuid.uuid4().hex[:8]}") as c:
        await c.subscribe(topic_filter, qos=1)

        async def collect() -> None:
            async for m in c.messages:
                raw = m.payload if isinstance(m.payload, bytes) else b"null"
                w.messages.append((str(m.topic), orjson.loads(raw), bool(m.retain)))

        task = asyncio.create_task(collect())
        try:
            yield w
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def retained(topic_filter: str, port: int = 1883, settle: float = 0.5) -> Watcher:
    """The retained messages currently stored under `topic_filter`."""
    async with watch(topic_filter, port) as w:
        await asyncio.sleep(settle)
    return w


class PrivateMosquitto:
    """`mosquitto -p PORT` (or `-c CONFIG`, which must listen on PORT) on loopback, stoppable
    and restartable on the same port."""

    def __init__(self, port: int, config: Path | None = None) -> None:
        self.port = port
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["-c", str(self.config)] if self.config else ["-p", str(self.port)]
        self.proc = subprocess.Popen(
            ["mosquitto", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise AssertionError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None
