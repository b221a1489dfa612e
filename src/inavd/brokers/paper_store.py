"""The paper venue's durable state: orders, fills and a log of every submit attempt (SQLite).

Committed before the daemon is told, so the venue survives a crash of the daemon the way a real
broker does.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import orjson

from inavd.domain.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce


class PaperStore:
    """The venue's durable state: orders, fills and a log of every submit attempt."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for ddl in (
            "CREATE TABLE IF NOT EXISTS orders (coid TEXT PRIMARY KEY, n INTEGER, body TEXT)",
            "CREATE TABLE IF NOT EXISTS fills (n INTEGER PRIMARY KEY, exec_id TEXT UNIQUE,"
            " body TEXT)",
            "CREATE TABLE IF NOT EXISTS submits (n INTEGER PRIMARY KEY AUTOINCREMENT,"
            " coid TEXT, ts_ns INTEGER, duplicate INTEGER)",
        ):
            self.db.execute(ddl)

    def log_submit(self, coid: str, ts: int, duplicate: bool, order: Order | None = None) -> None:
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO submits (coid, ts_ns, duplicate) VALUES (?,?,?)", (coid, ts, duplicate)
        )
        if order is not None:
            self._put(order)
        self.db.execute("COMMIT")

    def save_order(self, order: Order) -> None:
        self._put(order)

    def save_fill(self, fill: Fill, order: Order) -> None:
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO fills (exec_id, body) VALUES (?,?)",
            (fill.execution_id, _json(fill).decode()),
        )
        self._put(order)
        self.db.execute("COMMIT")

    def _put(self, o: Order) -> None:
        self.db.execute(
            "INSERT INTO orders (coid, n, body) VALUES (?, (SELECT count(*) FROM orders), ?)"
            " ON CONFLICT(coid) DO UPDATE SET body=excluded.body",
            (o.client_order_id, _json(o)),
        )

    def load_orders(self) -> dict[str, Order]:
        """Orders decoded on first access: a restart after a long session stays fast."""
        rows = self.db.execute("SELECT coid, body FROM orders ORDER BY n").fetchall()
        return LazyOrders({coid: body for coid, body in rows})

    def load_fills(self) -> list[Fill]:
        out = []
        for (body,) in self.db.execute("SELECT body FROM fills ORDER BY n"):
            d = orjson.loads(body)
            out.append(Fill(**{**d, "side": Side(d["side"])}))
        return out

    def open_ids(self) -> list[str]:
        terminal = tuple(st.value for st in OrderStatus if st.is_terminal)
        marks = ",".join("?" * len(terminal))
        rows = self.db.execute(
            f"SELECT coid FROM orders WHERE json_extract(body, '$.status') NOT IN ({marks})"
            " ORDER BY n",
            terminal,
        )
        return [c for (c,) in rows]

    def duplicates(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM submits WHERE duplicate").fetchone()[0])


class LazyOrders(dict[str, Order]):
    """coid → Order, decoding the stored JSON only for the orders that are looked at."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self._raw = raw

    def __contains__(self, coid: object) -> bool:
        return super().__contains__(coid) or coid in self._raw

    def __missing__(self, coid: str) -> Order:
        order = _decode_order(self._raw.pop(coid))
        self[coid] = order
        return order

    def get(self, coid: str, default: Any = None) -> Any:
        return self[coid] if coid in self else default  # noqa: SIM401 - triggers decoding

    def __len__(self) -> int:
        return super().__len__() + len(self._raw)


def _json(record: Order | Fill) -> bytes:
    """The record as a JSON object of its fields in order (an order's request nested as one)."""
    return orjson.dumps(record, default=msgspec.structs.asdict)


def _decode_order(body: str | bytes) -> Order:
    d = orjson.loads(body)
    r = d.pop("request")
    req = OrderRequest(
        **{
            **r,
            "side": Side(r["side"]),
            "order_type": OrderType(r["order_type"]),
            "time_in_force": TimeInForce(r["time_in_force"]),
        }
    )
    return Order(req, **{**d, "status": OrderStatus(d["status"])})
