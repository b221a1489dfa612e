"""Polling helpers for tests that watch another task or a server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(pred: Callable[[], bool], within: float = 5.0, step: float = 0.005) -> None:
    """Return once `pred()` holds; fail the test if it does not within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(step)
