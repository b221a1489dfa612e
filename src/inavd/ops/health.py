"""Liveness and readiness.

Liveness (/healthz): a heartbeat task on the event loop records when it last ran; if the loop is
blocked or the heartbeat died, its age grows past `heartbeat_max_age_s`. A supervised task that
failed for good also makes the daemon unhealthy, so the orchestrator restarts it.

Readiness (/readyz): the feed is fresh (a quote within `feed_stale_s` while the session is open),
the broker is connected and reconciled, the journal is writable. MQTT is reported but never makes
the daemon unready: it is a side channel.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inavd.ops.settings import OpsSettings
from inavd.publish.mqtt import MqttPublisher

if TYPE_CHECKING:
    from inavd.ports import DaemonView


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


class Heartbeat:
    """Beats every `interval_s` on the event loop; the overshoot of each sleep is the loop lag."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.last = time.monotonic()
        self.lag_s = 0.0
        self.max_lag_s = 0.0

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self.lag_s = max(now - before - self.interval_s, 0.0)
            self.max_lag_s = max(self.max_lag_s, self.lag_s)
            self.last = now

    def age_s(self) -> float:
        return time.monotonic() - self.last


class FeedWatch:
    """A core market listener: remembers the wall time of the latest applied batch (cheap)."""

    def __init__(self) -> None:
        self.last: float | None = None

    def on_market(self, now_ns: int) -> None:
        self.last = time.monotonic()

    def age_s(self) -> float | None:
        return None if self.last is None else time.monotonic() - self.last


class Health:
    def __init__(self, app: DaemonView, settings: OpsSettings) -> None:
        self.app = app
        self.s = settings
        self.heartbeat = Heartbeat(settings.heartbeat_interval_s)
        self.feed = FeedWatch()

    # ------------------------------------------------------------------ liveness
    def liveness(self) -> tuple[bool, dict[str, Any]]:
        age = self.heartbeat.age_s()
        failed = dict(self.app.supervisor.failed)
        ok = age <= self.s.heartbeat_max_age_s and not failed
        return ok, {
            "ok": ok,
            "heartbeat_age_s": round(age, 3),
            "max_age_s": self.s.heartbeat_max_age_s,
            "event_loop_lag_s": round(self.heartbeat.lag_s, 4),
            "failed_tasks": failed,
        }

    # ------------------------------------------------------------------ readiness
    def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks = [self.check_feed(), self.check_broker(), self.check_journal()]
        ok = all(c.ok for c in checks)
        body: dict[str, Any] = {"ready": ok, "checks": {c.name: c.as_dict() for c in checks}}
        mqtt = self.mqtt_state()
        if mqtt is not None:
            body["side_channels"] = {"mqtt": mqtt}
        return ok, body

    def check_feed(self) -> Check:
        app = self.app
        now = app.clock.now_ns()
        if app.core.closed or not app.session.contains(now):
            return Check("feed", True, "market closed: freshness not required")
        age = self.feed.age_s()
        if age is None:
            return Check("feed", False, "no quotes received yet")
        if age > self.s.feed_stale_s:
            return Check(
                "feed", False, f"stale: last quote {age:.1f} s ago > {self.s.feed_stale_s}"
            )
        return Check("feed", True, f"last quote {age:.2f} s ago")

    def check_broker(self) -> Check:
        broker = self.app.broker
        connected = getattr(broker, "connected", True)  # adapters without the flag: connect() ran
        if not connected:
            return Check("broker", False, f"{broker.name}: not connected")
        reconciled = getattr(self.app, "reconciled", None)
        if reconciled is False:
            return Check("broker", False, f"{broker.name}: connected, not reconciled yet")
        detail = "reconciled" if reconciled else "no start-up reconciliation needed"
        return Check("broker", True, f"{broker.name}: connected, {detail}")

    def check_journal(self) -> Check:
        journal = self.app.journal
        path = journal.path
        if journal.failed is not None:
            return Check("journal", False, f"{path}: write failed: {journal.failed}")
        try:
            journal.query("PRAGMA user_version")
        except Exception as exc:  # closed or broken connection
            return Check("journal", False, f"{path}: {type(exc).__name__}: {exc}")
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        if not writable:
            return Check("journal", False, f"{path}: not writable")
        return Check("journal", True, f"{path}: writable")

    def mqtt_state(self) -> str | None:
        for service in self.app.services:
            if isinstance(service, MqttPublisher):
                return service.state
        return None
