"""Side channels and background services attached to the app (MQTT publisher, ops endpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inavd.ports import DaemonView, Service


def build_services(app: DaemonView) -> list[Service]:
    """The services the config enables, in start order."""
    services: list[Service] = []
    s = app.cfg.settings
    if s.mqtt.enabled:
        from inavd.publish.mqtt import MqttPublisher  # imported only when used (aiomqtt)

        services.append(MqttPublisher(s.mqtt))
    if s.ops.enabled is True or (s.ops.enabled == "auto" and s.feed.kind == "alpaca"):
        from inavd.ops.server import OpsService  # imported only when used (aiohttp)

        services.append(OpsService(app, s.ops))
    return services
