"""The MQTT publisher service.

Trading code never awaits MQTT: a bus observer drops each event into the bounded, conflating
`Outbox` (O(1), never blocks, never raises into the publisher; no queue hop or task switch per
event), and a pump task publishes in rounds whenever a broker is connected. Without a broker the
daemon trades normally: one warning is logged, the connection is retried with capped, jittered
exponential backoff, and MQTT is reported as degraded (never unready).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import ssl
import time
from collections import Counter
from typing import TYPE_CHECKING

import aiomqtt
import orjson
import structlog

from inavd import __version__
from inavd.execution.nonces import JournalNonces
from inavd.publish.control import Rejected, Verifier, apply_command
from inavd.publish.outbox import Outbox
from inavd.publish.settings import MqttSettings
from inavd.publish.topics import QOS_EVENTS, QOS_RETAINED, Topics, status_payload

if TYPE_CHECKING:
    from inavd.ports import DaemonView

log = structlog.get_logger(__name__)

EVENT_WINDOW = 32  # QoS 1 publishes awaiting their PUBACK at once
# per publishing round (every flush_interval_s): bounds the CPU share MQTT takes from trading when
# a burst arrives (a fast replay); a backlog drains over the next rounds and at shutdown. Live
# trading produces a few events a minute, so neither bound binds there.
ROUND_MAX_EVENTS = 64
ROUND_BUDGET_S = 0.004  # wall time one round may spend publishing events (awaits included)


class MqttPublisher:
    def __init__(self, settings: MqttSettings) -> None:
        self.s = settings
        self.topics = Topics(settings.topic_prefix, settings.instance)
        self.outbox = Outbox(self.topics, settings.queue_max)
        self.connected = False
        self.published = 0
        self.connects = 0
        self.control_accepted = 0
        self.control_rejected: Counter[str] = Counter()
        self.verifier = Verifier(
            settings.control.secret, self.topics.control, settings.control.max_skew_s
        )
        self._app: DaemonView | None = None
        self._stopping = asyncio.Event()
        self._warned = False

    # ------------------------------------------------------------------ service
    async def start(self, app: DaemonView) -> None:
        self._app = app
        # accepted nonces live in the journal; older than twice the window they are stale anyway
        self.verifier.store = JournalNonces(app.journal, 2 * self.s.control.max_skew_s)
        app.bus.subscribe_all(self.outbox.offer)
        if self.s.control.enabled and not self.s.control.secret:
            log.error("mqtt control is enabled without INAVD_MQTT__CONTROL__SECRET; all refused")
        app.supervisor.spawn("mqtt", self._run)

    async def stop(self) -> None:
        """Flush what is pending, publish `offline`, disconnect (bounded by the caller)."""
        if self._app is None:
            return
        self._stopping.set()
        self.outbox.wake.set()
        sup = self._app.supervisor
        task = sup.tasks.get("mqtt")
        if task is not None and self.connected:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), self.s.publish_timeout_s)
        await sup.cancel("mqtt")

    @property
    def state(self) -> str:
        return "connected" if self.connected else "degraded"

    # ------------------------------------------------------------------ connection
    def _client(self) -> aiomqtt.Client:
        assert self._app is not None
        will = aiomqtt.Will(
            self.topics.status,
            status_payload(False, __version__, "", "", time.time_ns()),
            qos=QOS_RETAINED,
            retain=True,
        )
        client = aiomqtt.Client(
            self.s.host,
            self.s.port,
            username=self.s.login[0],
            password=self.s.login[1],
            identifier=f"inavd-{self.s.instance}-{self._app.run_id}",
            will=will,
            keepalive=self.s.keepalive_s,
            timeout=self.s.publish_timeout_s,
            tls_context=self._tls_context(),
            clean_session=True,
        )
        # a full window in flight is by design: no warning per publish beyond 10 pending
        client.pending_calls_threshold = 2 * EVENT_WINDOW
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.s.use_tls:
            return None
        t = self.s.tls
        ctx = ssl.create_default_context(cafile=t.ca_file or None)
        if t.cert_file:
            ctx.load_cert_chain(t.cert_file, t.key_file or None)
        if t.insecure:
            ctx.check_hostname = False
        return ctx

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                async with self._client() as client:
                    self._on_connected()
                    attempt = 0
                    await self._session(client)
                    return  # clean stop
            except aiomqtt.MqttError as exc:
                self._on_disconnected(exc)
            delay = min(self.s.backoff_max_s, self.s.backoff_initial_s * 2**attempt)
            attempt = min(attempt + 1, 30)
            with contextlib.suppress(TimeoutError):  # jitter spreads reconnects of many daemons
                await asyncio.wait_for(self._stopping.wait(), delay * random.uniform(0.5, 1.0))

    def _on_connected(self) -> None:
        self.connected = True
        self.connects += 1
        self.outbox.status_dirty = True
        if self._warned:
            log.info("mqtt connected again; publishing resumes", url=self.s.safe_url)
        else:
            log.info("mqtt connected", url=self.s.safe_url, base=self.topics.base)
        self._warned = False

    def _on_disconnected(self, exc: Exception) -> None:
        self.connected = False
        if not self._warned:  # one warning per outage, not one per retry
            log.warning(
                "mqtt unavailable; trading continues and publishing resumes when it is back",
                url=self.s.safe_url,
                error=str(exc),
            )
            self._warned = True

    async def _session(self, client: aiomqtt.Client) -> None:
        if self.s.control.enabled:
            await client.subscribe(self.topics.control, qos=1)
        pump = asyncio.create_task(self._pump(client))
        listen = asyncio.create_task(self._listen(client))
        try:
            done, _ = await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()  # raises MqttError on a lost connection
        finally:
            for t in (pump, listen):
                t.cancel()
            await asyncio.gather(pump, listen, return_exceptions=True)

    # ------------------------------------------------------------------ publishing
    async def _pump(self, client: aiomqtt.Client) -> None:
        ob = self.outbox
        while True:
            ob.wake.clear()
            await self._publish_pending(client)
            if not self._stopping.is_set():
                # publish in rounds: more iNAV conflation and fewer wake-ups while trading is busy
                await asyncio.sleep(self.s.flush_interval_s)
            if ob.pending:
                continue
            if self._stopping.is_set():  # everything is flushed: say goodbye
                await self._publish_status(client, online=False)
                return
            await ob.wake.wait()

    async def _publish_pending(self, client: aiomqtt.Client) -> None:
        ob = self.outbox
        if ob.status_dirty:
            ob.status_dirty = False
            await self._publish_status(client, online=True)
        # the latest state first (small, conflated: one message per fund), then the event backlog
        retained = ob.retained_batch()
        for i in range(0, len(retained), EVENT_WINDOW):
            window = retained[i : i + EVENT_WINDOW]
            await asyncio.gather(
                *(
                    client.publish(t, ob.encode_inav(ref), qos=QOS_RETAINED, retain=True)
                    for t, ref in window
                )
            )
            for topic, ref in window:
                ob.sent_retained(topic, ref)
            self.published += len(window)
        await self._publish_events(client)

    async def _publish_events(self, client: aiomqtt.Client) -> None:
        """Send the event backlog in order, at most ROUND_MAX_EVENTS and ROUND_BUDGET_S per round
        (each awaited PUBACK lets trading run, so a busy loop ends the round after one window);
        when stopping, everything."""
        ob = self.outbox
        stopping = self._stopping.is_set()
        budget = len(ob.events) if stopping else ROUND_MAX_EVENTS
        deadline = time.perf_counter() + ROUND_BUDGET_S
        while ob.events and budget > 0 and (stopping or time.perf_counter() < deadline):
            # a window of publishes in flight at once; each leaves the outbox only once the
            # broker acknowledged it (a failure mid-window may repeat some: QoS 1 is at least once)
            window = list(itertools.islice(ob.events, min(EVENT_WINDOW, budget)))
            msgs = [ob.encode_event(ev) for ev in window]
            await asyncio.gather(*(client.publish(t, p, qos=QOS_EVENTS) for t, p in msgs))
            for _ in window:
                ob.events.popleft()
            self.published += len(window)
            budget -= len(window)

    async def _publish_status(self, client: aiomqtt.Client, online: bool) -> None:
        assert self._app is not None
        ts = self._app.trading_state
        body = status_payload(online, __version__, ts.state.value, self._app.run_id, time.time_ns())
        await client.publish(self.topics.status, body, qos=QOS_RETAINED, retain=True)

    # ------------------------------------------------------------------ control
    async def _listen(self, client: aiomqtt.Client) -> None:
        """Iterating the messages also notices a lost connection while nothing is published."""
        async for message in client.messages:
            if str(message.topic) != self.topics.control or not self.s.control.enabled:
                continue
            payload = message.payload if isinstance(message.payload, bytes) else b""
            result = await self._control(payload)
            await client.publish(self.topics.control_result, orjson.dumps(result), qos=QOS_EVENTS)

    async def _control(self, payload: bytes) -> dict[str, object]:
        assert self._app is not None
        try:
            cmd = self.verifier.verify(payload)
            state = await apply_command(self._app, cmd.command, "mqtt")
        except Rejected as exc:
            self.control_rejected[exc.reason] += 1
            log.warning("mqtt control command refused", reason=str(exc))
            return {"accepted": False, "reason": exc.reason, "ts": time.time()}
        self.control_accepted += 1
        log.warning("mqtt control command applied", command=cmd.command, nonce=cmd.nonce)
        return {
            "accepted": True,
            "command": cmd.command,
            "nonce": cmd.nonce,
            "trading_state": state,
            "ts": time.time(),
        }
