"""Supervised background tasks: a failure is logged with context and the task restarted with
backoff; after `max_restarts` it is recorded in `failed`, which makes /healthz fail."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import msgspec
import structlog

log = structlog.get_logger(__name__)


class Supervisor(msgspec.Struct):
    """Runs background tasks; an unexpected failure is logged with context and restarted with
    backoff, and after `max_restarts` it is recorded in `failed`, which makes /healthz fail."""

    max_restarts: int = 5
    tasks: dict[str, asyncio.Task[None]] = msgspec.field(default_factory=dict)
    failed: dict[str, str] = msgspec.field(default_factory=dict)
    restarts: dict[str, int] = msgspec.field(default_factory=dict)

    def spawn(
        self, name: str, factory: Callable[[], Awaitable[None]], restart: bool = True
    ) -> None:
        self.failed.pop(name, None)
        self.tasks[name] = asyncio.create_task(self._guard(name, factory, restart), name=name)

    async def _guard(
        self, name: str, factory: Callable[[], Awaitable[None]], restart: bool
    ) -> None:
        n = 0
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                n += 1
                self.restarts[name] = n
                log.exception("background task failed", task=name, attempt=n, restart=restart)
                if not restart or n > self.max_restarts:
                    self.failed[name] = f"{type(exc).__name__}: {exc}"
                    log.error("background task given up; daemon is unhealthy", task=name)
                    return
                await asyncio.sleep(min(0.1 * 2**n, 5.0))

    async def cancel(self, name: str, timeout_s: float = 5.0) -> None:
        task = self.tasks.pop(name, None)
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout_s)

    @property
    def healthy(self) -> bool:
        return not self.failed
