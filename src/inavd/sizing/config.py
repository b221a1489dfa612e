"""`[sizing]`: how a signal's edge becomes shares."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SizingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    capital_usd: float = Field(100_000.0, gt=0)  # the capital Kelly fractions refer to
    kelly_fraction: float = Field(0.25, gt=0, le=1)  # fractional Kelly: a quarter by default
    cap_fraction: float = Field(0.10, gt=0, le=1)  # never more than this share of capital
    floor_fraction: float = Field(0.01, ge=0)  # a positive edge sizes at least this much
    vol_target: float = Field(0.0, ge=0)  # annualised; 0 = no volatility-target multiplier
    max_vol_multiplier: float = Field(2.0, gt=0)
    min_order_notional_usd: float = Field(1_000.0, ge=0)
    fractional_symbols: list[str] = []  # fractional shares only where the venue allows them

    @model_validator(mode="after")
    def _floor_below_cap(self) -> Self:
        if self.floor_fraction > self.cap_fraction:
            raise ValueError("floor_fraction must not exceed cap_fraction")
        return self
