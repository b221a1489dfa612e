"""The /status document: what an operator wants on one screen."""

from __future__ import annotations

import math
import time
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from inavd import __version__
from inavd.domain.events import Event, OrderDenied

if TYPE_CHECKING:
    from inavd.ops.health import Health
    from inavd.ops.metrics import Metrics
    from inavd.ops.trading_metrics import TradingMetrics
    from inavd.ports import DaemonView


NEW_YORK = ZoneInfo("America/New_York")


def _num(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _ny(ts_ns: int) -> str | None:
    """New York wall time, as the market and its operators read it (EST/EDT named)."""
    if ts_ns <= 0:
        return None
    return datetime.fromtimestamp(ts_ns / 1e9, tz=NEW_YORK).strftime("%Y-%m-%d %H:%M:%S %Z")


def _iso(ts_ns: int) -> str | None:
    if ts_ns <= 0:
        return None
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat(timespec="seconds")


class StatusView:
    def __init__(
        self,
        app: DaemonView,
        health: Health,
        metrics: Metrics,
        trading: TradingMetrics,
        recent: int = 20,
    ) -> None:
        self.app = app
        self.health = health
        self.metrics = metrics
        self.trading = trading
        self.recent_denials: deque[dict[str, Any]] = deque(maxlen=recent)

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, OrderDenied):
            self.recent_denials.append(
                {
                    "ts": _iso(ev.ts_ns),
                    "gate": ev.gate,
                    "reason": ev.reason,
                    "symbol": ev.request.symbol,
                    "client_order_id": ev.request.client_order_id,
                }
            )

    def document(self) -> dict[str, Any]:
        app = self.app
        live, _ = self.health.liveness()
        ready, readiness = self.health.readiness()
        return {
            "version": __version__,
            "run_id": app.run_id,
            "session": app.day.isoformat(),
            "data_time": _iso(app.clock.now_ns()),
            "data_time_ny": _ny(app.clock.now_ns()),
            "wall_time_ny": _ny(time.time_ns()),
            "money": self._money(),
            "trading_state": {
                "state": app.trading_state.state.value,
                "reason": app.trading_state.reason,
            },
            "health": {"live": live, "ready": ready, "checks": readiness["checks"]},
            "mqtt": self.health.mqtt_state(),
            "feed": {
                "describe": app.feed.describe(),
                "quotes": app.core.quotes,
                "age_s": _num(self.health.feed.age_s(), 3),
            },
            "positions": {s: q for s, q in sorted(app.router.ledger.qty.items()) if q},
            "open_orders": [self._order(o) for o in app.router.open.values()],
            "inav": self._inav(),
            "reference": app.reference_doc(),
            "denials": {
                "by_gate": dict(app.collector.denials),
                "recent": list(self.recent_denials),
            },
            "orders": app.collector.orders,
            "fills": app.collector.fills,
        }

    def _money(self) -> dict[str, Any]:
        m = self.trading.money()
        return {
            "realized_pnl_usd": round(m.realized, 2),
            "unrealized_pnl_usd": round(m.unrealized, 2),
            "fees_usd": round(m.fees, 2),
            "gross_exposure_usd": round(m.gross, 2),
            "net_exposure_usd": round(m.net, 2),
            "daily_loss_limit_usd": m.limit,
            "daily_loss_headroom_usd": round(m.headroom, 2),
            "positions_usd": {s: round(v, 2) for s, v in m.usd.items()},
        }

    @staticmethod
    def _order(o: Any) -> dict[str, Any]:
        r = o.request
        return {
            "client_order_id": r.client_order_id,
            "symbol": r.symbol,
            "side": r.side.value,
            "qty": r.qty,
            "filled_qty": o.filled_qty,
            "status": o.status.value,
            "order_type": r.order_type.value,
            "time_in_force": r.time_in_force.value,
            "limit_price": _num(r.limit_price),
        }

    def _inav(self) -> dict[str, Any]:
        ev = self.metrics.latest
        if ev is None:
            return {"ts": None, "seq": 0, "funds": []}
        funds = [
            {
                "symbol": sym,
                "inav": _num(ev.inav[j]),
                "mid": _num(ev.mid[j]),
                "premium_bp": _num(ev.premium_bp[j], 2),
                "benchmark_move": _num(ev.benchmark_move[j], 6),
                "flow_usd": _num(ev.flow_usd[j], 0),
            }
            for j, sym in enumerate(ev.symbols)
        ]
        return {"ts": _iso(ev.ts_ns), "seq": ev.seq, "funds": funds}
