"""The ops HTTP service (aiohttp): /healthz, /readyz, /metrics, /status, / and POST /trading-state.

It runs on the daemon's event loop, so a blocked loop shows up as a liveness failure (the probe
times out or reports an old heartbeat) instead of being hidden by a separate thread.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from inavd.domain.events import TradingState
from inavd.ops.connections import ConnectionGuard
from inavd.ops.guard import Refusal, control_denial, read_denial
from inavd.ops.health import Health
from inavd.ops.metrics import Metrics
from inavd.ops.page import render_page
from inavd.ops.settings import OpsSettings
from inavd.ops.status import StatusView
from inavd.ops.trading_metrics import TradingMetrics

if TYPE_CHECKING:
    from inavd.ports import DaemonView

log = structlog.get_logger(__name__)


def _json(body: Any, status: int = 200) -> web.Response:
    # figures computed from the book are numpy scalars (round() keeps them so): serialise them
    raw = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return web.Response(body=raw, status=status, content_type="application/json")


class OpsService:
    def __init__(self, app: DaemonView, settings: OpsSettings) -> None:
        self.app = app
        self.s = settings
        self.health = Health(app, settings)
        self.metrics = Metrics(app, self.health)
        # observers only: nothing here can raise into, or wait inside, the trading path
        app.core.market_listeners.append(self.health.feed.on_market)
        self.metrics.attach()
        self.trading = TradingMetrics(app, self.health)  # P&L, exposure, broker calls, build
        self.trading.attach()
        self.metrics.registry.register(self.trading)
        self.status = StatusView(app, self.health, self.metrics, self.trading)
        self.metrics.extra.append(self.status.on_event)  # denials: one bus observer, not two
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.guard = ConnectionGuard(settings.max_connections, settings.request_timeout_s)
        self.port: int | None = None

    # ------------------------------------------------------------------ service
    async def start(self, app: DaemonView) -> None:
        app.supervisor.spawn("heartbeat", self.health.heartbeat.run)
        app.supervisor.spawn("ops-connections", self.guard.run)
        web_app = web.Application(middlewares=[self.guard.middleware])
        web_app.add_routes(
            [
                web.get("/healthz", self.healthz),
                web.get("/readyz", self.readyz),
                web.get("/metrics", self.metrics_handler),
                web.get("/status", self.status_handler),
                web.get("/", self.page),
                web.post("/trading-state", self.set_trading_state),
                web.post("/operator", self.operator_command),
            ]
        )
        runner = web.AppRunner(
            web_app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=self.s.request_timeout_s,
        )
        await runner.setup()
        assert runner.server is not None
        loop = asyncio.get_running_loop()
        try:  # not TCPSite: every connection goes through the guard's limits
            self._listener = await loop.create_server(
                self.guard.wrap(runner.server), self.s.host, self.s.port, backlog=128
            )
        except OSError as exc:  # the daemon keeps trading; liveness probes will notice
            log.error(
                "ops endpoint cannot listen", host=self.s.host, port=self.s.port, error=str(exc)
            )
            await runner.cleanup()
            return
        self._runner = runner
        sockets = self._listener.sockets
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.s.port
        log.info("ops endpoint listening", url=self.url)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.app.supervisor.cancel("ops-connections")
        await self.app.supervisor.cancel("heartbeat")

    @property
    def url(self) -> str:
        return f"http://{self.s.host}:{self.port}"

    # ------------------------------------------------------------------ handlers
    async def healthz(self, request: web.Request) -> web.Response:
        ok, body = self.health.liveness()
        return _json(body, 200 if ok else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        ok, body = self.health.readiness()
        return _json(body, 200 if ok else 503)

    async def metrics_handler(self, request: web.Request) -> web.Response:
        resp = web.Response(body=self.metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    async def status_handler(self, request: web.Request) -> web.Response:
        denied = _refused(read_denial(self.s, request.headers))
        return denied or _json(self.status.document())

    async def page(self, request: web.Request) -> web.Response:
        initial = None if self.s.token else self.status.document()
        return web.Response(text=render_page(initial), content_type="text/html")

    async def set_trading_state(self, request: web.Request) -> web.Response:
        denied = control_denial(self.s, request.headers)
        if denied is not None:
            log.warning("trading state change refused", status=denied.status, error=denied.error)
            return _json({"error": denied.error}, denied.status)
        try:
            body = orjson.loads(await request.read())
            state = TradingState(body["state"])
            reason = str(body.get("reason") or "operator (http)")
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            return _json(
                {"error": 'expected {"state": "active|reducing|halted", "reason": "…"}'}, 400
            )
        changed = self.app.operator.set_state(state, reason)
        log.warning("trading state set over http", state=state.value, reason=reason)
        return _json({"state": state.value, "changed": changed})

    async def operator_command(self, request: web.Request) -> web.Response:
        """`{"command": "cancel-all" | "flatten", "reason": "..."}` through the operator port."""
        denied = control_denial(self.s, request.headers)
        if denied is not None:
            log.warning("operator command refused", status=denied.status, error=denied.error)
            return _json({"error": denied.error}, denied.status)
        try:
            body = orjson.loads(await request.read())
            command = str(body["command"])
            reason = f"operator {command} (http): {body.get('reason') or 'no reason given'}"
        except (orjson.JSONDecodeError, KeyError, TypeError):
            command = ""
        operator = self.app.operator
        if command == "cancel-all":
            n = await operator.cancel_all(reason)
        elif command == "flatten":
            n = await operator.flatten(reason)
        else:
            return _json(
                {"error": 'expected {"command": "cancel-all|flatten", "reason": "…"}'}, 400
            )
        log.warning("operator command over http", command=command, orders=n, reason=reason)
        return _json({"command": command, "orders": n, "state": self.app.trading_state.state.value})


def _refused(denied: Refusal | None) -> web.Response | None:
    return None if denied is None else _json({"error": denied.error}, denied.status)
