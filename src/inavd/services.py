"""Side channels and background services attached to the app (MQTT publisher, ops endpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inavd.app import App, Service


def build_services(app: App) -> list[Service]:
    """The services the config enables, in start order."""
    services: list[Service] = []
    return services
