"""The `[paper]` config section: how the simulated venue fills (docs/paper-venue.md)."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PaperSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # the rest of a market order beyond the displayed size: "next_quote" waits for the next quote
    # of the symbol; "walk" takes `walk_levels` deeper levels at once, each one spread (at least a
    # cent) further from the touch and as large as the displayed size, then waits
    market_rest: Literal["next_quote", "walk"] = "next_quote"
    walk_levels: int = Field(3, ge=1, le=50)
    # linear impact: a fill taking the whole displayed size pays this many bp beyond the touch,
    # a fill of half of it half as many
    impact_bp_per_displayed: float = Field(0.0, ge=0, le=1000)
    # closing auction price: "official" = the session's official close where the data has it
    # (the last mid otherwise); "mid" = always the last mid
    close_price: Literal["official", "mid"] = "official"
    # closing impact: the close moves by this fraction of (predicted leveraged-fund rebalance flow
    # ÷ closing volume), funds by their leverage times the benchmark's move (docs/paper-venue.md)
    close_impact_fraction: float = Field(0.0, ge=0, le=1)
