"""Start-up steps that need the network (reference data, the broker account): retried, never fatal
unless the keys are wrong.

An unreachable Alpaca (refused, DNS failure, timeout, 5xx, 429) is waited out with capped,
jittered backoff and one log line per attempt; the daemon stays not-ready meanwhile and a stop
request ends the wait. Refused keys (401/403) are not worth a retry: one line naming the key
variables, exit 2 — and the systemd unit does not restart on exit 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import structlog

from inavd.errors import (
    FatalBrokerError,
    InavdError,
    RetryableBrokerError,
    UnknownOutcome,
)
from inavd.feeds.alpaca_common import backoff
from inavd.live_config import KEY_ENV, SECRET_ENV, AlpacaSettings

if TYPE_CHECKING:
    from inavd.brokers.base import Broker

log = structlog.get_logger(__name__)
T = TypeVar("T")


class KeysRefused(InavdError):
    """Alpaca refused the keys (401/403): printed as one line, exit 2, not restarted."""


def keys_refused(where: str, status: object) -> KeysRefused:
    return KeysRefused(
        f"alpaca refused the keys ({where}: {status}): check {KEY_ENV} / {SECRET_ENV}"
        " (paper and live accounts have different keys)"
    )


def classify(exc: BaseException) -> str | None:
    """"auth", "retry" or None (not a network failure: let it through)."""
    if isinstance(exc, KeysRefused | FatalBrokerError):
        return "auth"
    status = getattr(exc, "status_code", None)  # alpaca-py's APIError
    if isinstance(status, int):
        return "auth" if status in (401, 403) else "retry" if status >= 429 else None
    if isinstance(exc, RetryableBrokerError | UnknownOutcome | OSError | TimeoutError):
        return "retry"
    try:
        import requests
    except ImportError:  # pragma: no cover - requests comes with alpaca-py
        return None
    return "retry" if isinstance(exc, requests.RequestException) else None


async def retry_network(
    step: str,
    attempt: Callable[[], Awaitable[T]],
    min_s: float,
    max_s: float,
    stop: asyncio.Event | None = None,
) -> T:
    """Run `attempt` until it succeeds; network failures wait (capped backoff), wrong keys
    raise `KeysRefused`, anything else propagates. A set `stop` raises `StartupStopped`."""
    delays = backoff(min_s, max_s)
    n = 0
    while True:
        n += 1
        try:
            return await attempt()
        except Exception as exc:
            wait = _failed(step, n, exc, delays)
        await _sleep_or_stop(wait, stop)


def retry_network_sync(step: str, attempt: Callable[[], T], min_s: float, max_s: float) -> T:
    """`retry_network` for the blocking steps that run while the app is being built."""
    delays = backoff(min_s, max_s)
    n = 0
    while True:
        n += 1
        try:
            return attempt()
        except Exception as exc:
            wait = _failed(step, n, exc, delays)
        time.sleep(wait)


def _failed(step: str, n: int, exc: Exception, delays: Iterator[float]) -> float:
    """Raise what must not be retried; otherwise log the attempt and return the wait."""
    kind = classify(exc)
    if kind == "auth":
        if isinstance(exc, KeysRefused):
            raise exc
        raise keys_refused(step, getattr(exc, "status_code", None) or exc) from None
    if kind is None:
        raise exc
    wait = next(delays)
    log.warning(
        "alpaca unreachable at start-up: retrying",
        step=step, attempt=n, error=_short(exc), retry_in_s=round(wait, 2),
    )  # fmt: skip
    return wait


class StartupStopped(InavdError):
    """A stop was requested while waiting for the network at start-up."""


async def _sleep_or_stop(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    if stop.is_set():
        raise StartupStopped("stopped while waiting for Alpaca at start-up")


def _short(exc: BaseException) -> str:
    """The error class and the first line of its text, bounded (no traceback, no URL query)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}".rstrip(": ")


async def broker_reachable(broker: Broker, a: AlpacaSettings, stop: asyncio.Event) -> bool:
    """Alpaca: keys and network checked before anything else (waits while unreachable, exit 2 on
    401/403). False when a stop was requested during the wait."""
    if broker.name != "alpaca":
        return True
    try:
        await retry_network("account", broker.account, a.backoff_min_s, a.backoff_max_s, stop)
    except StartupStopped:
        return False
    return True
