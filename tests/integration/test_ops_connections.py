"""/healthz stays answerable with 300 idle connections open against a daemon limited to 256 file
descriptors; idle and trickling connections are closed after the request timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from tests.kit.opskit import free_port, write_config

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
FD_LIMIT = 256


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    ops = {"enabled": True, "port": port, "request_timeout_s": 1.0, "max_connections": 64}
    cfg = write_config(tmp_path, {"ops": ops})
    env = {**os.environ, "INAVD_OPS__TOKEN": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inavd", "run", "--config", str(cfg), "--serve", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "daemon.log").open("w"),
        preexec_fn=_limit_fds,  # only sets a limit: safe between fork and exec
    )
    try:
        yield proc.pid, port
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        if proc.poll() is None:
            proc.kill()


async def _healthz(port: int, timeout_s: float = 5.0) -> int:
    t = aiohttp.ClientTimeout(total=timeout_s)
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession(timeout=t) as s, s.get(url) as r:
        return r.status


async def _until_up(port: int, within_s: float = 120.0) -> None:
    end = time.monotonic() + within_s
    while True:
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            if await _healthz(port, 2.0) == 200:
                return
        assert time.monotonic() < end, "the daemon's ops endpoint did not come up"
        await asyncio.sleep(0.2)


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_healthz_answers_with_300_idle_sockets_under_256_fds(
    daemon: tuple[int, int],
) -> None:
    pid, port = daemon
    await _until_up(port)
    idle: list[asyncio.StreamWriter] = []

    async def connect() -> None:
        with contextlib.suppress(OSError, TimeoutError):
            _, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            idle.append(w)

    await asyncio.gather(*(connect() for _ in range(300)))
    # most were accepted (a few may time out while the replay keeps the daemon busy)
    assert len(idle) >= 200
    statuses = [await _healthz(port) for _ in range(5)]
    assert statuses == [200] * 5
    assert _fds(pid) < FD_LIMIT - 64  # the cap keeps the daemon far from its limit
    for w in idle:
        w.close()


async def test_idle_and_trickling_connections_are_closed(daemon: tuple[int, int]) -> None:
    _, port = daemon
    await _until_up(port)
    r1, w1 = await asyncio.open_connection("127.0.0.1", port)  # says nothing
    r2, w2 = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    w2.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished

    async def trickle() -> None:  # a byte every 0.2 s: data keeps coming, the request does not
        with contextlib.suppress(OSError):
            while not w2.is_closing():
                await asyncio.sleep(0.2)
                w2.write(b"X")
                await w2.drain()

    task = asyncio.create_task(trickle())
    assert await _closed(r1) == b""  # closed by the daemon
    rest = await _closed(r2)
    closed_after = time.monotonic() - started
    task.cancel()
    assert b"200 OK" not in rest
    # request timeout 1 s, swept every second (plus the loop lag of a replay at full speed)
    assert closed_after < 8
    for w in (w1, w2):
        w.close()


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before closing (a reset after our late writes is a close too)."""
    try:
        return await asyncio.wait_for(reader.read(), 10)
    except ConnectionResetError:
        return b""
