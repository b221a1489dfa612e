"""Config sections for live venues (`[alpaca]`, `[reference]`) and the credential rules.

Keys come only from the environment (`APCA_API_KEY_ID`, `APCA_API_SECRET_KEY`); `Credentials`
never prints them. Real-money trading needs an explicit opt-in, and what counts as real money is
the trading endpoint actually used, not the `paper` flag: alpaca-py sends orders to `trading_url`
whatever `paper` says. Any host but Alpaca's paper host or a loopback address is live.
"""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from inavd.errors import ConfigError

LIVE_OPT_IN_ENV = "INAVD_LIVE_TRADING"
LIVE_OPT_IN_VALUE = "yes-i-understand"
KEY_ENV, SECRET_ENV = "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"
PAPER_HOST, LIVE_HOST = "paper-api.alpaca.markets", "api.alpaca.markets"


class Strict(BaseModel):  # same rules as inavd.settings.Strict (which imports this module)
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlpacaSettings(Strict):
    feed: Literal["iex", "sip"] = "iex"
    stream_client: Literal["direct", "alpaca-py"] = "direct"  # market data; bench/RESULTS.md
    paper: bool = True
    data_url: str = ""  # market-data websocket; empty = Alpaca's own
    data_rest_url: str = ""  # historical data REST (snapshots for the reference)
    trading_url: str = ""  # trading REST base (the client appends /v2/...)
    trade_stream_url: str = ""  # trade_updates websocket
    silence_s: float = Field(10.0, gt=0)  # no quotes this long in market hours → reconnect
    backoff_min_s: float = Field(1.0, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    half_dead_s: float = Field(90.0, ge=0)  # Alpaca may hold a dropped connection this long
    rest_timeout_s: float = Field(10.0, gt=0)
    # request pacing: [execution.rate_limit] (one limiter shared by every broker call)


class ReferenceSettings(Strict):
    source: Literal["sample", "alpaca", "file"] = "sample"
    path: str = ""  # file: CSV with symbol, prior_close[, prior_nav]
    # proxy dividends and fund distributions (docs/corporate-actions.md): "auto" = the bundled
    # file for replays, Alpaca's corporate actions for source = "alpaca"; "bundled", "alpaca",
    # "none", or the path of a CSV `ex_date,symbol,cash_amount`
    corporate_actions: str = "auto"
    nav_file: str = ""  # official NAVs (issuer layout or date,fund,nav,shares_outstanding,aum)


@dataclass(frozen=True)
class Credentials:
    key_id: str = field(repr=False)
    secret_key: str = field(repr=False)

    def __str__(self) -> str:
        return "Credentials(***)"


def quiet_wire_loggers() -> None:
    """websockets' DEBUG log prints frame contents, auth frames (keys) included: keep it at INFO."""
    for name in ("websockets", "websockets.client", "websockets.protocol"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def load_credentials() -> Credentials:
    key, secret = os.environ.get(KEY_ENV, ""), os.environ.get(SECRET_ENV, "")
    if not key or not secret:
        raise ConfigError(f"Alpaca needs {KEY_ENV} and {SECRET_ENV} in the environment")
    quiet_wire_loggers()
    return Credentials(key, secret)


def trading_endpoint(s: AlpacaSettings) -> str:
    """The trading REST base orders go to (what alpaca-py uses: the override wins)."""
    return s.trading_url or f"https://{PAPER_HOST if s.paper else LIVE_HOST}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trading_mode(s: AlpacaSettings) -> tuple[Literal["paper", "live"], str]:
    """("paper" | "live", host) decided by the endpoint, never by the `paper` flag alone."""
    host = (urlsplit(trading_endpoint(s)).hostname or "").lower()
    return ("paper" if host == PAPER_HOST or is_loopback(host) else "live"), host


def describe_trading(broker_kind: str, s: AlpacaSettings) -> dict[str, Any]:
    """The effective mode and trading host, for check-config and the start-up log."""
    if broker_kind != "alpaca":
        return {"mode": "simulated", "trading_host": None}
    mode, host = trading_mode(s)
    opted_in = os.environ.get(LIVE_OPT_IN_ENV) == LIVE_OPT_IN_VALUE
    return {"mode": mode, "trading_host": host, "live_opt_in": opted_in}


def check_live_opt_in(settings: AlpacaSettings) -> None:
    """Refuse real-money trading unless the operator opted in explicitly."""
    mode, host = trading_mode(settings)
    if mode == "live" and os.environ.get(LIVE_OPT_IN_ENV) != LIVE_OPT_IN_VALUE:
        flag = "" if not settings.paper else " (alpaca.paper = true does not change where it goes)"
        raise ConfigError(
            f"trading endpoint {host} is live, real money{flag}: set"
            f" {LIVE_OPT_IN_ENV}={LIVE_OPT_IN_VALUE} to confirm, or trade on {PAPER_HOST}"
        )
