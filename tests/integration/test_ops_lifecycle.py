"""Process lifecycle: SIGTERM exits 0 in bounded time and says `offline`; a second instance on
the same state refuses to start with one clear line; a restarted task recovers."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.kit.opskit import free_port, unique_prefix, watch, write_config
from tests.kit.paths import ROOT
from tests.kit.waits import until

from inavd.lifecycle import StateLock, StateLocked
from inavd.supervisor import Supervisor


def _inavd(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "inavd", "run", "--quiet", *extra, "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
async def test_sigterm_exits_0_and_second_instance_is_refused(tmp_path: Path) -> None:
    prefix = unique_prefix()
    port = free_port()
    cfg = write_config(
        tmp_path,
        {
            "mqtt": {"enabled": True, "topic_prefix": prefix, "instance": "l"},
            "ops": {"enabled": True, "port": port, "shutdown_timeout_s": 3},
        },
    )
    first = _inavd(cfg, "--serve")
    try:
        async with watch(f"{prefix}/l/status") as w:
            await until(lambda: (w.last("status") or {}).get("status") == "online", within=30)
            second = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "inavd", "run", "--quiet", "--config", str(cfg)],
                cwd=ROOT,
                capture_output=True,
                timeout=60,
            )
            assert second.returncode == 2
            err = second.stderr.decode().strip().splitlines()
            assert len(err) == 1 and "in use by another inavd" in err[0], err
            assert first.poll() is None  # the first one is unaffected

            t0 = time.monotonic()
            first.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(first.wait, 20)
            assert code == 0 and time.monotonic() - t0 < 10
            await until(lambda: (w.last("status") or {}).get("status") == "offline", within=5)
    finally:
        if first.poll() is None:
            first.kill()


def test_state_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    lock = StateLock.acquire(journal)
    with pytest.raises(StateLocked, match="in use by another inavd"):
        StateLock.acquire(journal)
    lock.release()
    StateLock.acquire(journal).release()


async def test_supervisor_restarts_a_failing_task_then_gives_up() -> None:
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ValueError(f"failure {runs}")
        await asyncio.sleep(3600)

    sup = Supervisor(max_restarts=5)
    sup.spawn("flaky", flaky)
    await until(lambda: runs == 3, within=5)
    assert sup.healthy and sup.restarts["flaky"] == 2
    await sup.cancel("flaky")

    async def hopeless() -> None:
        raise OSError("gone")

    sup2 = Supervisor(max_restarts=1)
    sup2.spawn("hopeless", hopeless)
    await until(lambda: not sup2.healthy, within=5)
    assert sup2.failed == {"hopeless": "OSError: gone"} and sup2.restarts["hopeless"] == 2
