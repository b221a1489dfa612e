"""`[risk]`: the limits the gates enforce and the trading state at start-up."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RiskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    initial_state: Literal["active", "reducing", "halted"] = "active"
    # liquidity: deny when spread > rolling mean + k·σ (+ slack), or the displayed size is thin
    spread_k: float = Field(3.0, gt=0)
    spread_slack_bp: float = Field(0.0, ge=0)  # absolute allowance on top of k·σ
    spread_min_updates: int = Field(20, ge=0)  # quotes of history before the statistics count
    spread_gate_exits: bool = False  # also hold exposure-reducing orders in a wide market
    min_displayed_shares: float = Field(100.0, ge=0)
    # stale data
    max_quote_age_s: float = Field(10.0, gt=0)
    max_inav_age_s: float = Field(45.0, gt=0)
    # limits (USD)
    max_order_notional_usd: float = Field(50_000.0, gt=0)
    max_position_usd: float = Field(100_000.0, gt=0)
    position_limits_usd: dict[str, float] = {}  # per-symbol override of max_position_usd
    max_gross_usd: float = Field(500_000.0, gt=0)  # Σ |shares · price · L| (benchmark dollars)
    max_net_usd: float = Field(250_000.0, gt=0)  # |Σ shares · price · L|
    max_orders_per_minute: int = Field(30, gt=0)
    daily_loss_limit_usd: float = Field(5_000.0, gt=0)  # breach → HALTED
    # short sales: the operator enables symbols; the venue must report them shortable
    short_symbols: list[str] = []
    # symbols the venue reports shortable when it has no locate API (paper); funds also use the
    # universe's `shortable` flag
    shortable: list[str] = []
    price_collar_bp: float = Field(50.0, gt=0)  # limit price vs mid (fat finger)
    extended_hours: bool = False
    moc_cutoff_min: float = Field(10.0, ge=0)  # no MOC/LOC after close − this (15:50 ET)
