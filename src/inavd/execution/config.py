"""The `[execution]` config section: algorithms, broker-call limits, reconciliation, stop policy."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

StopPolicy = Literal["cancel", "leave"]


class Strict(BaseModel):
    # same policy as inavd.settings.Strict (not imported: settings imports this module)
    model_config = ConfigDict(extra="forbid", frozen=True)


class IcebergSettings(Strict):
    enabled: bool = False
    min_qty: float = Field(1000.0, gt=0)  # orders at least this large are worked as icebergs
    display_qty: float = Field(200.0, gt=0)  # shown per child order
    randomize_pct: float = Field(0.0, ge=0, lt=1)  # child size uniform in display × (1 ± pct)
    peg: Literal["near", "mid", "far"] = "far"  # child limit pegged to this side of the touch
    offset_bp: float = Field(0.0, ge=0, le=100)  # toward the far side (more aggressive)
    reprice_bp: float = Field(5.0, gt=0)  # re-peg when the peg moved this far from the child
    seed: int = 7


class MocSettings(Strict):
    cutoff_min_before_close: float = Field(10.0, ge=0)  # 15:50 ET on a normal day
    # strategies whose positions are flattened in the closing auction
    exit_at_close: list[str] = Field(default_factory=list)
    exit_lead_s: float = Field(60.0, ge=0)  # the exit is sent this long before the cutoff


class RateLimitSettings(Strict):
    per_minute: int = Field(200, gt=0)  # the broker's published limit
    headroom: float = Field(0.9, gt=0, le=1)  # use at most this fraction of it
    apply_to_paper: bool = False  # the simulated venue has no limit; replays stay fast
    max_attempts: int = Field(6, ge=1)
    backoff_base_ms: float = Field(250.0, ge=0)
    backoff_max_ms: float = Field(15_000.0, ge=0)


class ExecutionSettings(Strict):
    iceberg: IcebergSettings = IcebergSettings()
    moc: MocSettings = MocSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    call_timeout_s: float = Field(5.0, gt=0)  # a broker call slower than this is an unknown outcome
    lookup_attempts: int = Field(3, ge=1)
    reconcile_interval_s: float = Field(300.0, ge=0)  # 0 = only at start-up
    shutdown_policy: StopPolicy = "cancel"  # working iceberg children on stop
    stop_timeout_s: float = Field(10.0, gt=0)
    # paper venue state file (relative to run.data_dir); "" = in memory (dies with the process)
    paper_state: str = ""

    @model_validator(mode="after")
    def _display_below_min(self) -> Self:
        if self.iceberg.display_qty > self.iceberg.min_qty:
            raise ValueError("iceberg.display_qty must not exceed iceberg.min_qty")
        return self
