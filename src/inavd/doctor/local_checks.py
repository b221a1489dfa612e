"""Doctor's checks that need no broker: the keys are set, MQTT answers, the ops port is free."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import aiomqtt

from inavd.doctor.report import Check, fail, ok, skip, warn
from inavd.errors import ConfigError
from inavd.live_config import KEY_ENV, SECRET_ENV, Credentials, load_credentials
from inavd.ops.settings import OpsSettings
from inavd.publish.settings import MqttSettings


def keys() -> tuple[Check, Credentials | None]:
    """Present or not; the values are never shown, not even in part."""
    try:
        creds = load_credentials()
    except ConfigError:
        return fail("keys", f"{KEY_ENV} and {SECRET_ENV} must both be set"), None
    return ok("keys", f"{KEY_ENV} and {SECRET_ENV} set"), creds


async def mqtt(s: MqttSettings, timeout_s: float) -> Check:
    """A full MQTT CONNECT (credentials, TLS), not only a TCP connect. MQTT away does not stop
    trading (events wait in the outbox), so it is a warning."""
    if not s.enabled:
        return skip("mqtt", "disabled")
    where = f"{s.host}:{s.port}"
    tls = ssl.create_default_context(cafile=s.tls.ca_file or None) if s.use_tls else None
    if tls is not None and s.tls.insecure:
        tls.check_hostname = False
    client = aiomqtt.Client(
        s.host, s.port, username=s.username or None, password=s.password or None,
        identifier=f"inavd-doctor-{s.instance}", timeout=timeout_s, tls_context=tls,
    )  # fmt: skip
    try:
        async with asyncio.timeout(timeout_s):
            async with client:
                pass
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        return warn("mqtt", f"{where} not reachable ({type(exc).__name__}): events will queue")
    return ok("mqtt", f"{where} accepts the connection")


def ops_port(s: OpsSettings, live: bool) -> Check:
    """The daemon binds the ops port at start-up: taken, it would not start."""
    if not (s.enabled is True or live):  # "auto": on exactly when the feed is live
        return skip("ops port", "ops endpoint off")
    if s.port == 0:
        return ok("ops port", "any free port")
    where = f"{s.host}:{s.port}"
    family = socket.AF_INET6 if ":" in s.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind((s.host, s.port))
        except OSError as exc:
            why = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            return fail("ops port", f"{where} {why}")
    return ok("ops port", f"{where} free")
