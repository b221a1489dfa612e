"""Config sections of the signals: `[strategies.<name>]`, each on/off with per-fund overrides.

Every section accepts `overrides = { SH = { threshold_bp = 3.0 } }`: keys are checked against the
section's own fields, so a typo is a config error, not a silently ignored value.
"""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
from collections.abc import Iterable
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

ShortMode = Literal["none", "equivalent"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalSettings(_Strict):
    enabled: bool = False
    symbols: list[str] = []  # funds (or benchmarks, for benchmark signals); empty = all
    edge_bp: float = Field(5.0, ge=0)  # expected edge per trade, for Kelly sizing
    stdev_bp: float = Field(50.0, gt=0)  # per-trade return standard deviation
    # a wanted negative fund position when shorting is refused: "equivalent" long exposure in
    # the benchmark or an inverse fund, or "none" (drop it)
    short_mode: ShortMode = "none"
    overrides: dict[str, dict[str, Any]] = {}
    _merged: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_known(self) -> Self:
        fixed = {"overrides", "symbols", "enabled"}
        allowed = set(type(self).model_fields) - fixed
        for sym, ov in self.overrides.items():
            bad = sorted(set(ov) - allowed)
            if bad:
                raise ValueError(f"overrides.{sym}: unknown key(s) {bad}")
        if self.overrides:  # validate the merged values now, not on the first use
            for sym in self.overrides:
                self.for_symbol(sym)
        return self

    def for_symbol(self, symbol: str) -> Self:
        """This section with `symbol`'s overrides applied (cached: settings are frozen)."""
        if symbol not in self.overrides:
            return self
        hit = self._merged.get(symbol)
        if hit is None:
            data = self.model_dump()
            data.update(self.overrides[symbol])
            data["overrides"] = {}
            hit = self._merged[symbol] = type(self).model_validate(data)
        merged: Self = hit
        return merged

    def selects(self, symbol: str) -> bool:
        return not self.symbols or symbol in self.symbols


class PremiumArbSettings(SignalSettings):
    """Fund vs its iNAV inside the rebalance window before the close."""

    threshold_bp: float = Field(2.0, gt=0)
    exit_bp: float = Field(0.5, ge=0)
    window_start_min: float = Field(30.0, gt=0)  # minutes before the close (15:30 ET)
    window_end_min: float = Field(10.0, ge=0)  # exit by then (15:50 ET)
    half_spread_mult: float = Field(1.0, ge=0)  # |premium| must also exceed this × half spread
    # hedge leg in the benchmark proxy: the trade is on the premium, not on the market
    hedge: bool = True

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_end_min >= self.window_start_min:
            raise ValueError("window_end_min must be smaller than window_start_min")
        if self.exit_bp >= self.threshold_bp:
            raise ValueError("exit_bp must be smaller than threshold_bp")
        return self


class MocFlowSettings(SignalSettings):
    """Position ahead of the leveraged/inverse funds' closing rebalance trade."""

    entry_min_before_close: float = Field(20.0, gt=0)  # 15:40 ET on a normal day
    # typical closing-auction volume per benchmark proxy, USD; a benchmark without one is skipped
    closing_volume_usd: dict[str, float] = {}
    min_flow_fraction: float = Field(0.05, gt=0)  # |flow| / closing volume needed to trade
    exit_cutoff_min: float = Field(10.0, ge=0)  # MOC orders are refused after close − this


class MeanReversionSettings(SignalSettings):
    """RSI + Bollinger excursions of the benchmark, traded through its inverse fund."""

    sample_s: float = Field(60.0, gt=0)  # bar length sampled from the benchmark mid
    rsi_period: int = Field(14, ge=2)
    rsi_overbought: float = Field(70.0, gt=50, lt=100)
    rsi_exit: float = Field(50.0, gt=0, lt=100)
    bb_period: int = Field(20, ge=2)
    bb_k: float = Field(2.0, gt=0)
    inverse_fund: dict[str, str] = {}  # benchmark → fund; default: its −1x fund
    flat_before_close_min: float = Field(15.0, ge=0)


class VolHedgeSettings(SignalSettings):
    """Hedge a configured beta exposure with an inverse fund, scaled by realised volatility."""

    portfolio_beta_usd: dict[str, float] = {}  # benchmark → beta-dollar exposure to hedge
    hedge_fund: dict[str, str] = {}  # benchmark → inverse fund; default: its −1x fund
    base_ratio: float = Field(0.5, ge=0, le=2)
    target_vol: float = Field(0.16, gt=0)  # annualised vol at which the ratio is base_ratio
    min_ratio: float = Field(0.0, ge=0)
    max_ratio: float = Field(1.0, gt=0)
    ewma_lambda: float = Field(0.94, gt=0, lt=1)
    daily_closes: str = "sample"  # CSV symbol,date,close[,adjusted_close]; "" = no GARCH
    garch_min_obs: int = Field(60, ge=10)
    vix: float | None = Field(None, gt=0)  # optional VIX level (percent)
    rebalance_band: float = Field(0.10, ge=0)  # relative change of the target before trading


class DecayMonitorSettings(SignalSettings):
    """Watch held fund positions for tracking deviation and expected volatility drag."""

    base_stop_bp: float = Field(150.0, gt=0)
    tighten_scale_bp: float = Field(50.0, gt=0)  # deviation at which the stop is halved
    max_deviation_bp: float = Field(200.0, gt=0)
    holding_days: float = Field(5.0, gt=0)
    benefit_bp: float = Field(100.0, ge=0)  # expected hedge benefit over the holding period
    ewma_lambda: float = Field(0.94, gt=0, lt=1)
    min_samples: int = Field(20, ge=2)  # evaluations before the drag estimate is trusted
    # strategies whose positions are hedges (or are hedged): never stopped out
    exempt_strategies: list[str] = ["volhedge", "premarb"]


def check_references(strategies: Any, funds: Iterable[str], benchmarks: Iterable[str]) -> list[str]:
    """Problems with symbols named by the signal sections (`key: message`)."""
    f, b = set(funds), set(benchmarks)
    out: list[str] = []

    def need(key: str, syms: Iterable[str], pool: set[str], what: str) -> None:
        # a disabled strategy's symbols do not matter (a user's small universe layered over the
        # default must not trip over the default's strategies it switched off)
        if getattr(strategies, key.split(".")[0]).enabled:
            out.extend(f"strategies.{key}: {s!r} is not a {what}" for s in syms if s not in pool)

    need("premium_arb.symbols", strategies.premium_arb.symbols, f, "fund")
    need("moc_flow.symbols", strategies.moc_flow.symbols, b, "benchmark")
    need("moc_flow.closing_volume_usd", strategies.moc_flow.closing_volume_usd, b, "benchmark")
    need("mean_reversion.symbols", strategies.mean_reversion.symbols, b, "benchmark")
    need("mean_reversion.inverse_fund", strategies.mean_reversion.inverse_fund, b, "benchmark")
    need("mean_reversion.inverse_fund", strategies.mean_reversion.inverse_fund.values(), f, "fund")
    need("vol_hedge.portfolio_beta_usd", strategies.vol_hedge.portfolio_beta_usd, b, "benchmark")
    need("vol_hedge.hedge_fund", strategies.vol_hedge.hedge_fund.values(), f, "fund")
    need("decay_monitor.symbols", strategies.decay_monitor.symbols, f, "fund")
    return out
