"""`[ops]` configuration: the health/metrics/status endpoint and the process lifecycle.
The bearer token comes from the environment only (INAVD_OPS__TOKEN)."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    # same policy as inavd.settings.Strict (not imported: settings imports this module)
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpsSettings(Strict):
    # "auto": on whenever the feed is live (an operator must be able to see a trading daemon),
    # off for replays and backtests
    enabled: bool | Literal["auto"] = "auto"
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)  # 0 = any free port (tests)
    token: str = ""  # bearer token for /status and POST /trading-state; environment only
    # Host names a state-changing request may address besides the bind address (and, on a
    # loopback or wildcard bind, localhost): the names a reverse proxy or operator uses
    allowed_hosts: tuple[str, ...] = ()
    # a connection must deliver a whole request this soon after connecting or after its last
    # response (idle keep-alive, slow headers); at most max_connections are open at once
    request_timeout_s: float = Field(10.0, gt=0)
    max_connections: int = Field(64, ge=2)
    heartbeat_interval_s: float = Field(0.5, gt=0)
    heartbeat_max_age_s: float = Field(10.0, gt=0)  # /healthz fails beyond this
    feed_stale_s: float = Field(5.0, gt=0)  # /readyz fails when the last quote is older
    linger_s: float = Field(0.0, ge=-1)  # keep serving after a replay ends; -1 = until stopped
    shutdown_timeout_s: float = Field(10.0, gt=0)  # each shutdown step is bounded by this
