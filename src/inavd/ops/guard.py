"""Who may change the daemon's state over HTTP.

A state change needs the bearer token, always: with no token configured the control endpoint is
closed (403 with the one line that says how to open it), whatever address it listens on — a
loopback listener is reachable by every local process and, through DNS rebinding or a plain form
POST, by any web page the operator has open. Requests must also be JSON (a browser cannot send a
cross-origin `application/json` POST without a CORS preflight, which this server never answers),
name an allowed `Host` (defeats DNS rebinding) and, when they carry an `Origin`, come from the
server's own origin. Read-only endpoints take the token only when one is configured.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from inavd.ops.settings import OpsSettings

NO_TOKEN = (
    "control is disabled: set INAVD_OPS__TOKEN (a long random string) in the daemon's environment"
    " and send it as 'Authorization: Bearer <token>'"
)
WILDCARD = frozenset({"", "0.0.0.0", "::", "[::]"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    error: str


def read_denial(s: OpsSettings, headers: Mapping[str, str]) -> Refusal | None:
    """Read-only endpoints: the token when one is configured, otherwise open."""
    if not s.token:
        return None
    return _bearer(s.token, headers)


def control_denial(s: OpsSettings, headers: Mapping[str, str]) -> Refusal | None:
    """State-changing endpoints: token configured and presented, JSON, own Host and Origin."""
    if not s.token:
        return Refusal(403, NO_TOKEN)
    host = headers.get("Host", "")
    if not host_allowed(s, host):
        return Refusal(403, f"Host {host!r} is not this server (add it to ops.allowed_hosts)")
    origin = headers.get("Origin")
    if origin is not None and not same_origin(origin, host):
        return Refusal(403, f"cross-origin request from {origin!r} refused")
    denied = _bearer(s.token, headers)
    if denied is not None:
        return denied
    ctype = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        return Refusal(415, "Content-Type must be application/json")
    return None


def _bearer(token: str, headers: Mapping[str, str]) -> Refusal | None:
    got = headers.get("Authorization", "")
    if hmac.compare_digest(got.encode(), f"Bearer {token}".encode()):
        return None
    return Refusal(401, "missing or wrong bearer token")


def hostname(host_header: str) -> str:
    """`Host` without its port: 'a:8787' → 'a', '[::1]:8787' → '[::1]'."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[: h.find("]") + 1] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def host_allowed(s: OpsSettings, host_header: str) -> bool:
    name = hostname(host_header)
    if not name:
        return False
    allowed = {h.lower() for h in s.allowed_hosts}
    bind = s.host.lower()
    if bind in WILDCARD and not allowed:
        return True  # listening everywhere with no list: the token alone decides
    if bind not in WILDCARD:
        allowed.add(bind)
    if bind in WILDCARD or is_loopback(bind):
        allowed |= LOOPBACK_NAMES
    return name in allowed


def same_origin(origin: str, host_header: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host_header.lower()


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
