"""Process lifecycle: one writer per state directory, supervised background tasks, and an orderly,
bounded shutdown on SIGTERM/SIGINT.

Shutdown order: stop taking new orders → let the execution engine cancel or keep working orders
(its policy) → side channels flushed (MQTT publishes `offline`) → broker closed → journal
committed and closed. Every step is bounded by `[ops] shutdown_timeout_s`, so the process exits
with code 0 in bounded time even when a broker or the MQTT server does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import os
import signal
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from inavd.domain.events import TradingState
from inavd.errors import InavdError

if TYPE_CHECKING:
    from inavd.ports import DaemonHost

log = structlog.get_logger(__name__)


class StateLocked(InavdError):
    """Another inavd holds the state directory: refuse to start a second writer."""


class StateLock:
    """An exclusive `flock` next to the journal, held for the life of the run.

    flock is released by the kernel when the process dies (even on kill -9), so a crashed daemon
    never leaves a stale lock behind; the file itself is never deleted (that would race).
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, journal_path: Path) -> StateLock:
        path = journal_path.parent / f"{journal_path.name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StateLocked(
                f"{journal_path} is in use by another inavd ({holder}); refusing to start a"
                " second writer on the same state"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Lifecycle:
    """Signals, the stop request, lingering after a replay, the bounded shutdown of a daemon."""

    def __init__(self, app: DaemonHost) -> None:
        self.app = app
        self.timeout_s = app.cfg.settings.ops.shutdown_timeout_s
        self._signals: list[int] = []

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)
                self._signals.append(sig)

    def _on_signal(self, sig: int) -> None:
        log.warning("stop requested", signal=signal.Signals(sig).name)
        self.app.request_stop()

    async def until_stopped(self, work: Awaitable[None]) -> None:
        """Run `work` (the feed loop) until it ends or a stop is requested. The loop checks the
        stop flag between batches; a feed that is waiting for data is cancelled after a grace."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.app.stop_event.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                done, _ = await asyncio.wait({task}, timeout=min(self.timeout_s, 2.0))
                if not done:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if not task.cancelled():
                task.result()  # re-raise a failure of the feed loop
        finally:
            stop.cancel()

    async def linger(self) -> None:
        """After a replay: keep the side channels up for `[ops] linger_s` (-1: until stopped)."""
        linger = self.app.linger_s
        if linger == 0 or self.app.stop_event.is_set():
            return
        log.info("replay done; still serving", linger_s=linger)
        timeout = None if linger < 0 else linger
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.app.stop_event.wait(), timeout)

    async def shutdown(self, started: bool) -> None:
        app = self.app
        if app.stop_event.is_set():  # a stop request, not the natural end of a replay
            app.trading_state.set(TradingState.HALTED, "shutdown", durable=False)
            if started:
                await self._bounded("execution shutdown", self._execution_shutdown())
        stop_feed = getattr(app.feed, "stop", None)  # live feeds hold a socket and tasks
        if stop_feed is not None:
            await self._bounded("stop feed", stop_feed())
        for service in reversed(app.services):
            await self._bounded(f"stop {type(service).__name__}", service.stop())
        await self._bounded("broker close", app.broker.close())
        # last: every broker callback up to the close is journaled
        with contextlib.suppress(Exception):
            app.close_history()
        with contextlib.suppress(Exception):
            app.journal.close()
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)

    async def _execution_shutdown(self) -> None:
        """Call the execution engine's `shutdown(policy)` when this build has one."""
        for owner in (getattr(self.app, "execution", None), self.app.router):
            fn = getattr(owner, "shutdown", None)
            if fn is None:
                continue
            params = inspect.signature(fn).parameters
            needs_arg = any(p.default is inspect.Parameter.empty for p in params.values())
            # without a default policy in its signature, use the configured one (or cancel)
            execution_cfg = getattr(self.app.cfg.settings, "execution", None)
            policy = getattr(execution_cfg, "shutdown_policy", "cancel")
            result: Any = fn(policy) if needs_arg else fn()
            if inspect.isawaitable(result):
                await result
            return

    async def _bounded(self, what: str, step: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(step, self.timeout_s)
        except TimeoutError:
            log.error("shutdown step timed out", step=what, timeout_s=self.timeout_s)
        except InavdError as exc:  # e.g. the journal cannot record the cancels: one line
            log.error("shutdown step failed", step=what, error=str(exc))
        except Exception:
            log.exception("shutdown step failed", step=what)
