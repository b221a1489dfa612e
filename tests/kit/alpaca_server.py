"""A local Alpaca on 127.0.0.1:0 for tests: market-data websocket, trading REST, trade_updates.

Driven by the real alpaca-py clients through their URL overrides. Tests steer it directly:
push quotes, drop or silence sockets, force stream error codes, inject REST faults, fill orders.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from tests.kit import alpaca_wire as wire
from tests.kit.alpaca_account import Desk
from tests.kit.alpaca_trading import Venue, event
from tests.kit.waits import until

KEY, SECRET = "PKTESTKEY0000000000", "test-secret-0000000000000000000000000000"


@dataclass
class Fault:
    method: str
    path: str  # prefix
    status: int  # HTTP status to answer; 0 = hang (client timeout)
    count: int = 1
    body: dict[str, Any] | None = None
    after: bool = False  # True: process the request, then fail (the outcome is unknown)
    delay_s: float = 0.0


@dataclass
class MarketData:
    auth_error: int | None = None  # answer auth with this error code (402/406/409)
    symbol_limit: int = 30
    half_dead_s: float = 0.0  # a closed connection still holds the slot this long (406)
    conns: list[web.WebSocketResponse] = field(default_factory=list)
    connects: int = 0
    auth_errors: list[int] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    slot_busy_until: float = 0.0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    # "negotiate" answers like Alpaca: msgpack only if the client sent
    # `Content-Type: application/msgpack` on the handshake, JSON text otherwise
    encoding: Literal["negotiate", "json", "msgpack"] = "negotiate"
    encodings: list[wire.Encoding] = field(default_factory=list)  # per connection, in order
    spoken: dict[web.WebSocketResponse, wire.Encoding] = field(default_factory=dict)


class AlpacaServer:
    def __init__(self, key: str = KEY, secret: str = SECRET) -> None:
        self.key, self.secret = key, secret
        self.md = MarketData()
        self.venue = Venue()
        self.desk = Desk(self.venue)  # account, assets, clock
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.trade_conns: list[web.WebSocketResponse] = []
        self.trade_auths = 0
        self.fills_emitted = 0  # fill / partial_fill events sent on trade_updates
        self.trade_auth_delay_s = 0.0
        self.trade_authorized = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self, port: int = 0) -> AlpacaServer:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/v2/{feed:iex|sip|test}", self._md_ws)
        r.add_get("/stream", self._trade_ws)
        r.add_post("/v2/orders", self._submit)
        r.add_get("/v2/orders", self._list_orders)
        r.add_delete("/v2/orders", self._cancel_all)
        r.add_get("/v2/orders:by_client_order_id", self._by_coid)
        r.add_get("/v2/orders/{id}", self._get_order)
        r.add_patch("/v2/orders/{id}", self._replace)
        r.add_delete("/v2/orders/{id}", self._cancel)
        r.add_get("/v2/positions", self._positions)
        self.desk.add_routes(r)
        r.add_get("/v2/calendar", self._calendar)
        r.add_get("/v2/stocks/snapshots", self._snapshots)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in [*self.md.conns, *self.trade_conns]:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v2/iex"

    @property
    def trade_stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    # ------------------------------------------------------------------ market data websocket
    async def _md_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        md = self.md
        md.connects += 1
        asked = request.headers.get("Content-Type", "") == "application/msgpack"
        enc: wire.Encoding = "msgpack" if asked else "json"
        md.spoken[ws] = enc if md.encoding == "negotiate" else md.encoding
        md.encodings.append(md.spoken[ws])
        await self._send(ws, [{"T": "success", "msg": "connected"}])
        authed = False
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                    continue
                m = wire.decode_client(msg.data)
                if m.get("action") == "auth":
                    code = self._md_auth_code(m)
                    if code is not None:
                        md.auth_errors.append(code)
                        await self._send(ws, [wire.error(code)])
                        await ws.close()
                        break
                    authed = True
                    md.conns.append(ws)
                    await self._send(ws, [{"T": "success", "msg": "authenticated"}])
                elif m.get("action") == "subscribe" and authed:
                    await self._md_subscribe(ws, m)
        finally:
            md.spoken.pop(ws, None)
            if ws in md.conns:
                md.conns.remove(ws)
                md.slot_busy_until = time.monotonic() + md.half_dead_s
        return ws

    async def _send(self, ws: web.WebSocketResponse, msgs: list[dict[str, Any]]) -> None:
        await wire.send(ws, wire.encode(msgs, self.md.spoken.get(ws, "msgpack")))

    def _md_auth_code(self, m: dict[str, Any]) -> int | None:
        md = self.md
        if md.auth_error is not None:
            return md.auth_error
        if m.get("key") != self.key or m.get("secret") != self.secret:
            return 402
        if md.conns or time.monotonic() < md.slot_busy_until:
            return 406
        return None

    async def _md_subscribe(self, ws: web.WebSocketResponse, m: dict[str, Any]) -> None:
        self.md.subscriptions.append(m)
        syms = set(m.get("quotes", [])) | set(m.get("trades", []))
        if len(syms) > self.md.symbol_limit:
            await self._send(ws, [wire.error(405)])
            return
        ack = {"T": "subscription", "trades": m.get("trades", []), "quotes": m.get("quotes", []),
               "bars": m.get("bars", []), "updatedBars": [], "dailyBars": [], "statuses": [],
               "lulds": [], "corrections": [], "cancelErrors": []}
        await self._send(ws, [ack])
        self.md.subscribed.set()

    async def push(self, msgs: list[dict[str, Any]], fragment: int = 0) -> int:
        """Send one frame of messages to every authenticated connection, each in the encoding
        it negotiated; returns how many got it."""
        n = 0
        for ws in list(self.md.conns):
            n += await wire.send(ws, wire.encode(msgs, self.md.spoken.get(ws, "msgpack")),
                                 fragment)
        return n

    async def push_raw(self, payload: bytes | str, fragment: int = 0) -> int:
        """Send these exact bytes (a binary frame) or text (a text frame), whatever was agreed."""
        n = 0
        for ws in list(self.md.conns):
            n += await wire.send(ws, payload, fragment)
        return n

    async def drop_market_data(self) -> None:
        for ws in list(self.md.conns):
            await ws.close()

    async def wait_subscribed(self, count: int = 1, within: float = 5.0) -> None:
        await until(lambda: len(self.md.subscriptions) >= count and bool(self.md.conns), within)

    # ------------------------------------------------------------------ trade_updates websocket
    async def _trade_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            async for msg in ws:
                m = json.loads(msg.data)
                if m.get("action") == "authenticate":
                    await asyncio.sleep(self.trade_auth_delay_s)
                    d = m.get("data", {})
                    ok = d.get("key_id") == self.key and d.get("secret_key") == self.secret
                    status = "authorized" if ok else "unauthorized"
                    await ws.send_bytes(json.dumps(
                        {"stream": "authorization",
                         "data": {"status": status, "action": "authenticate"}}).encode())
                    if not ok:
                        await ws.close()
                        break
                elif m.get("action") == "listen":
                    self.trade_conns.append(ws)
                    self.trade_auths += 1
                    self.trade_authorized.set()
                    await ws.send_bytes(json.dumps(
                        {"stream": "listening", "data": {"streams": ["trade_updates"]}}).encode())
        finally:
            if ws in self.trade_conns:
                self.trade_conns.remove(ws)
        return ws

    async def emit(self, ev: dict[str, Any]) -> None:
        if ev["data"]["event"] in ("fill", "partial_fill"):
            self.fills_emitted += 1
        data = json.dumps(ev).encode()  # paper sends binary frames
        for ws in list(self.trade_conns):
            if not ws.closed:
                await ws.send_bytes(data)

    async def drop_trade_stream(self) -> None:
        self.trade_authorized.clear()
        for ws in list(self.trade_conns):
            await ws.close()

    async def fill(self, client_order_id: str, qty: float | None, price: float) -> None:
        o = self.venue.lookup(client_order_id)
        assert o is not None, client_order_id
        await self.emit(self.venue.fill(o, qty, price))

    async def quote(self, symbol: str, bid: float, ask: float) -> None:
        """A new touch: resting orders it makes marketable fill there, as Alpaca's do."""
        self.venue.quotes[symbol] = (bid, ask)
        for o in self.venue.open_orders():
            px = self.venue.marketable(o) if o["symbol"] == symbol else None
            if px is not None:
                await self.emit(self.venue.fill(o, None, px))

    async def closing_auction(self, prices: dict[str, float]) -> None:
        for o in self.venue.open_orders():
            if o["time_in_force"] == "cls" and o["symbol"] in prices:
                await self.emit(self.venue.fill(o, None, prices[o["symbol"]]))

    # ------------------------------------------------------------------ REST
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in ("/stream", "/v2/iex", "/v2/sip", "/v2/test"):
            resp: web.StreamResponse = await handler(request)
            return resp
        if (request.headers.get("APCA-API-KEY-ID") != self.key
                or request.headers.get("APCA-API-SECRET-KEY") != self.secret):
            denied = web.json_response({"message": "unauthorized."}, status=401)  # no code
            return self._record(request, denied)
        fault = self._take_fault(request)
        if fault is not None and not fault.after:
            return self._record(request, await self._fault_response(fault))
        resp = await handler(request)
        if fault is not None:
            return self._record(request, await self._fault_response(fault))
        return self._record(request, resp)

    def _take_fault(self, request: web.Request) -> Fault | None:
        for f in self.faults:
            if f.count > 0 and f.method == request.method and request.path.startswith(f.path):
                f.count -= 1
                return f
        return None

    async def _fault_response(self, f: Fault) -> web.StreamResponse:
        if f.status == 0:
            await asyncio.sleep(3600)  # hang: the client times out
        await asyncio.sleep(f.delay_s)
        body = f.body or {"code": f.status * 100_000, "message": "injected fault"}
        return web.json_response(body, status=f.status)

    def _record(self, request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
        self.requests.append((request.method, request.path, resp.status))
        return resp

    @staticmethod
    def _json(body: Any, status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message}, status=status)

    async def _submit(self, request: web.Request) -> web.Response:
        body = await request.json()
        coid = body.get("client_order_id")
        if coid and self.venue.lookup(coid) is not None:
            return self._error(422, 40010001, "client_order_id must be unique")
        if coid and len(coid) > 128:
            return self._error(422, 40010000, "client_order_id must be no more than 128 characters")
        if float(body.get("qty") or 0) <= 0:
            return self._error(422, 40010000, "qty must be > 0")
        if body.get("extended_hours") and (body["type"], body["time_in_force"]) != ("limit", "day"):
            return self._error(422, 42210000, "extended hours order must be DAY limit orders")
        o = self.venue.new_order(body)
        await self.emit(event("new", o))
        px = self.venue.marketable(o)
        if px is not None:
            asyncio.get_running_loop().call_later(0.005, self._fill_later, o, px)
        return self._json(o)

    def _fill_later(self, o: dict[str, Any], px: float) -> None:
        if o["status"] in ("new", "partially_filled"):
            task = asyncio.ensure_future(self.emit(self.venue.fill(o, None, px)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _list_orders(self, request: web.Request) -> web.Response:
        status = request.query.get("status", "open")
        orders = list(self.venue.orders.values())
        if status == "open":
            orders = self.venue.open_orders()
        elif status == "closed":
            orders = [o for o in orders if o not in self.venue.open_orders()]
        return self._json(orders)

    async def _by_coid(self, request: web.Request) -> web.Response:
        o = self.venue.lookup(request.query.get("client_order_id", ""))
        return self._json(o) if o else self._error(404, 40410000, "order not found")

    async def _get_order(self, request: web.Request) -> web.Response:
        o = self.venue.orders.get(request.match_info["id"])
        return self._json(o) if o else self._error(404, 40410000, "order not found")

    async def _replace(self, request: web.Request) -> web.Response:
        old = self.venue.orders.get(request.match_info["id"])
        if old is None:
            return self._error(404, 40410000, "order not found")
        if old["status"] not in ("new", "accepted", "partially_filled"):
            return self._error(422, 42210000, "order is not replaceable")
        body = await request.json()
        coid = body.get("client_order_id")
        if coid and self.venue.lookup(coid) is not None:
            return self._error(422, 40010001, "client_order_id must be unique")
        new = self.venue.replace(old, body)
        await self.emit(event("replaced", old))
        await self.emit(event("new", new))
        return self._json(new)

    async def _cancel(self, request: web.Request) -> web.Response:
        o = self.venue.orders.get(request.match_info["id"])
        if o is None:
            return self._error(404, 40410000, "order not found")
        if o["status"] not in ("new", "accepted", "partially_filled", "pending_new"):
            return self._error(422, 42210000, "order is not cancelable")
        await self.emit(self.venue.cancel(o))
        return web.Response(status=204)

    async def _cancel_all(self, request: web.Request) -> web.Response:
        out = []
        for o in self.venue.open_orders():
            await self.emit(self.venue.cancel(o))
            out.append({"id": o["id"], "status": 200, "body": o})
        return self._json(out, status=207)

    async def _positions(self, request: web.Request) -> web.Response:
        v = self.venue
        return self._json([v.position_json(s) for s, (q, _) in v.positions.items() if q])

    async def _calendar(self, request: web.Request) -> web.Response:
        start = date.fromisoformat(request.query.get("start", "2024-03-01"))
        end = date.fromisoformat(request.query.get("end", start.isoformat()))
        days = [start + timedelta(d) for d in range((end - start).days + 1)]
        return self._json([{"date": d.isoformat(), "open": "09:30", "close": "16:00",
                            "session_open": "0400", "session_close": "2000",
                            "settlement_date": (d + timedelta(1)).isoformat()}
                           for d in days if d.weekday() < 5])

    async def _snapshots(self, request: web.Request) -> web.Response:
        syms = request.query.get("symbols", "").split(",")
        return self._json({s: self.snapshots[s] for s in syms if s in self.snapshots})

    def set_prior_close(self, sym: str, close: float, day: date) -> None:
        midnight = datetime.combine(day, datetime.min.time(), ZoneInfo("America/New_York"))
        t = midnight.astimezone(UTC).isoformat().replace("+00:00", "Z")
        bar = {"t": t, "o": close, "h": close, "l": close,
               "c": close, "v": 1000, "n": 10, "vw": close}
        self.snapshots[sym] = {"prevDailyBar": bar, "dailyBar": bar, "latestTrade": None,
                               "latestQuote": None, "minuteBar": None}
