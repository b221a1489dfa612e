"""A dead daemon leaves `offline` (last will); a missing broker never touches trading."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.kit.opskit import (
    PrivateMosquitto,
    free_port,
    make_app,
    mqtt_of,
    retained,
    running,
    unique_prefix,
    watch,
    write_config,
)
from tests.kit.paths import ROOT
from tests.kit.waits import until


def _daemon(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "inavd", "run", "--quiet", "--serve", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
async def test_kill_9_leaves_retained_status_offline(tmp_path: Path) -> None:
    prefix = unique_prefix()
    cfg = write_config(
        tmp_path, {"mqtt": {"enabled": True, "topic_prefix": prefix, "instance": "k"}}
    )
    proc = _daemon(cfg)
    try:
        async with watch(f"{prefix}/k/status") as w:
            await until(lambda: (w.last("status") or {}).get("status") == "online", within=30)
            os.kill(proc.pid, signal.SIGKILL)  # no chance to say goodbye: the broker's will does
            await asyncio.to_thread(proc.wait, 10)
            await until(lambda: (w.last("status") or {}).get("status") == "offline", within=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = await retained(f"{prefix}/k/status")
    assert [p["status"] for _, p, r in stored.messages if r] == ["offline"]


@pytest.mark.slow
async def test_broker_down_at_start_then_restored(tmp_path: Path) -> None:
    base = make_app(write_config(_mk(tmp_path / "base"), {}))
    baseline = await base.run()

    port = free_port()  # nothing listens here yet: the broker is "down"
    prefix = unique_prefix()
    mqtt = {
        "enabled": True,
        "url": f"mqtt://127.0.0.1:{port}",
        "topic_prefix": prefix,
        "instance": "r",
        "backoff_initial_s": 0.1,
        "backoff_max_s": 0.5,
    }
    app = make_app(write_config(_mk(tmp_path / "down"), {"mqtt": mqtt}), serve=True)
    broker = PrivateMosquitto(port)
    try:
        async with running(app):
            await until(lambda: app.core.closed, within=30)
            pub = mqtt_of(app)
            assert not pub.connected and pub.published == 0
            # trading was untouched by the missing broker
            assert app.collector.orders == baseline["orders"]
            assert app.collector.fills == baseline["fills"]
            assert round(app.router.ledger.realized_pnl_usd, 2) == baseline["realized_pnl"]

            broker.start()
            await until(lambda: pub.connected and not pub.outbox.pending, within=20)
            stored = await retained(f"{prefix}/r/#", port=port)
            inav = {t for t, _, r in stored.messages if r and "/inav/" in t}
            assert len(inav) == len(app.engine.fund_symbols)
            assert (stored.last("/status") or {}).get("status") == "online"

            broker.stop()  # and once more: down, then back
            await until(lambda: not pub.connected, within=10)
            broker.start()
            await until(lambda: pub.connected, within=10)
            assert pub.connects == 2
            again = await retained(f"{prefix}/r/status", port=port)
            assert (again.last("/status") or {}).get("status") == "online"
    finally:
        broker.stop()


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
