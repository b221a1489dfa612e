"""Connection limits for the ops endpoint, so a liveness probe always gets an answer.

aiohttp keeps an idle keep-alive connection for 75 s and has no deadline for reading a request, so
a few hundred idle or trickling clients can use up the process's file descriptors; then `accept()`
fails and `/healthz` goes unanswered while trading is fine, and a probe restarts a healthy daemon.
The guard wraps the server's protocol factory:

- a connection has `request_timeout_s` to deliver a whole request, counted from its connect or
  from the end of its previous response (covers idle keep-alive and slow, trickled headers);
- at most `max_connections` are open: the connection that has waited longest without a request
  in flight is closed to make room for a new one (the newest is the probe that is about to ask).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass
class _Conn:
    transport: asyncio.BaseTransport
    waiting_since: float  # connect time or end of the last response
    busy: int = 0  # requests in flight


class ConnectionGuard:
    def __init__(self, max_connections: int, request_timeout_s: float) -> None:
        self.max_connections = max_connections
        self.request_timeout_s = request_timeout_s
        self.open: dict[asyncio.BaseTransport, _Conn] = {}
        self.closed_idle = 0  # timed out before a request arrived
        self.closed_for_room = 0  # closed to stay under max_connections

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory whose protocols register their connection with the guard."""
        return lambda: _Tracked(self, factory())

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        conn = self.open.get(request.transport) if request.transport is not None else None
        if conn is not None:
            conn.busy += 1
        try:
            return await handler(request)
        finally:
            if conn is not None:
                conn.busy -= 1
                conn.waiting_since = time.monotonic()

    def sweep(self, now: float | None = None) -> int:
        """Close connections that have waited too long for a request; returns how many."""
        now = time.monotonic() if now is None else now
        stale = [
            c
            for c in self.open.values()
            if not c.busy and now - c.waiting_since > self.request_timeout_s
        ]
        for c in stale:
            self._close(c.transport)
        self.closed_idle += len(stale)
        return len(stale)

    async def run(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.sweep()

    def _make_room(self, newest: asyncio.BaseTransport) -> None:
        idle = [c for c in self.open.values() if not c.busy and c.transport is not newest]
        if not idle:
            self._close(newest)  # all others are being served: the newcomer waits its turn
        else:
            self._close(min(idle, key=lambda c: c.waiting_since).transport)
        self.closed_for_room += 1

    def _close(self, transport: asyncio.BaseTransport) -> None:
        self.open.pop(transport, None)
        transport.close()


class _Tracked(asyncio.Protocol):
    """Delegates to aiohttp's protocol (which has slots: it cannot be patched) and tells the
    guard when its connection opens and closes."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        g = self.guard
        g.open[transport] = _Conn(transport, time.monotonic())
        self.inner.connection_made(transport)
        if len(g.open) > g.max_connections:
            g._make_room(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.guard.open.pop(self.transport, None)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()
