"""Configuration: TOML files + INAVD_* environment overrides → frozen, typed settings.

Every user mistake becomes a `ConfigError` whose message is one line per problem naming the file,
the key and the reason. Secrets are read from the environment only.
"""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
import os
import tomllib
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from inavd.brokers.paper_config import PaperSettings
from inavd.costs import CostSettings
from inavd.errors import ConfigError
from inavd.execution.config import ExecutionSettings
from inavd.live_config import AlpacaSettings, ReferenceSettings, describe_trading
from inavd.ops.settings import OpsSettings
from inavd.publish.settings import MqttSettings
from inavd.redact import redact
from inavd.risk.config import RiskSettings
from inavd.signals.config import (
    DecayMonitorSettings,
    MeanReversionSettings,
    MocFlowSettings,
    PremiumArbSettings,
    VolHedgeSettings,
    check_references,
)
from inavd.sizing.config import SizingSettings

# The embedded default ships as package data, so `inavd run` works from any folder and from a wheel.
EMBEDDED_DIR = Path(str(files("inavd").joinpath("data", "config")))
DEFAULT_CONFIG = EMBEDDED_DIR / "default.toml"
DEFAULT_UNIVERSE = EMBEDDED_DIR / "universe.toml"
SECRET_KEYS = frozenset({"password", "secret", "api_key", "secret_key", "token", "key_id"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------ universe (data/config/universe.toml)
class SwapSpec(Strict):
    reference: str
    notional_usd: float


class FuturesSpec(Strict):
    reference: str
    contracts: float
    multiplier_usd: float = Field(gt=0)
    prev_settle: float = Field(gt=0)


class HoldingsSpec(Strict):
    as_of: date  # the NAV strike the basket was published for (the prior session's close)
    shares_outstanding: float = Field(gt=0)
    cash_usd: float
    accrued_fees_usd: float = Field(0.0, ge=0)
    swaps: list[SwapSpec] = []
    futures: list[FuturesSpec] = []


class FundSpec(Strict):
    benchmark: str
    leverage: float
    expense_ratio: float = Field(ge=0, le=0.05)
    aum_usd: float = Field(0.0, ge=0)
    aum_as_of: date | None = None  # when `aum_usd` was published (flow estimate, /status)
    net_creations_usd: float = 0.0
    shortable: bool = False
    holdings: HoldingsSpec | None = None

    @model_validator(mode="after")
    def _leverage_sane(self) -> Self:
        if self.leverage == 0 or abs(self.leverage) > 5:
            raise ValueError(
                f"leverage {self.leverage} is not a daily multiple in [-5, 5] \\ {{0}}"
            )
        return self


class BenchmarkSpec(Strict):
    index: str = ""
    dividend_yield: float = Field(0.0, ge=0, le=0.2)


class UniverseSpec(Strict):
    benchmarks: dict[str, BenchmarkSpec]
    funds: dict[str, FundSpec]

    @model_validator(mode="after")
    def _references_known(self) -> Self:
        for sym, fund in self.funds.items():
            if fund.benchmark not in self.benchmarks:
                raise ValueError(f"fund {sym}: benchmark {fund.benchmark!r} is not in [benchmarks]")
            legs = fund.holdings.swaps + fund.holdings.futures if fund.holdings else []
            for leg in legs:
                if leg.reference not in self.benchmarks:
                    raise ValueError(f"fund {sym}: holdings reference {leg.reference!r} unknown")
        overlap = set(self.funds) & set(self.benchmarks)
        if overlap:
            raise ValueError(f"symbols listed both as fund and benchmark: {sorted(overlap)}")
        return self


# ---------------------------------------------------------------- main config sections
class RunSettings(Strict):
    data_dir: Path = Path("var")
    # where bundled days built from their bars are kept (default <data_dir>/sessions); files are
    # named by what built them, so several runs may share one folder
    sessions_dir: Path | None = None
    run_id: str = Field("", max_length=16, pattern=r"^[A-Za-z0-9]*$")
    progress: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class FeedSettings(Strict):
    kind: Literal["replay", "synthetic", "alpaca"] = "replay"
    # replay: "sample" (the bundled session) or a CSV/Parquet file of quotes
    # synthetic: "sample" (the bundled 1-minute bars) or a directory of <SYMBOL>.csv bars
    path: str = "sample"
    session: date | None = None  # which day to replay; default: the file's first full session
    speed: float = Field(0.0, ge=0)  # 0 = as fast as possible, 1 = real time
    seed: int = 7
    batch_max: int = Field(8192, gt=0)
    # zone of ISO timestamps written without an offset ("America/New_York", "UTC"); empty:
    # such a file is refused with one line (epoch ns and offset timestamps need nothing)
    tz: str = ""
    # quote sanity band: a quote's mid more than `jump_ratio`× away from the symbol's last valid
    # mid (if that is under `jump_window_s` old), or more than `close_ratio`× away from its
    # prior close, is rejected as an outlier and counted
    jump_ratio: float = Field(1.25, gt=1)
    jump_window_s: float = Field(60.0, gt=0)
    close_ratio: float = Field(4.0, gt=1)


class InavSettings(Strict):
    interval_s: float = Field(15.0, gt=0)
    cash_rate: float = Field(0.0155, ge=-0.05, le=0.25)  # annual financing / collateral rate


class BrokerSettings(Strict):
    kind: Literal["paper", "alpaca"] = "paper"
    latency_ms: float = Field(0.0, ge=0)
    starting_cash_usd: float = Field(1_000_000.0, gt=0)
    # the paper venue's account rules (Alpaca reports its own): symbols it will not lend, and the
    # pattern-day-trader inputs, to rehearse the rule with a small account
    hard_to_borrow: list[str] = []
    pattern_day_trader: bool = False
    daytrade_count: int = Field(0, ge=0)


class JournalSettings(Strict):
    path: Path = Path("journal.sqlite")  # relative paths are inside run.data_dir
    synchronous: Literal["off", "normal", "full"] = "normal"
    # bounded disk: the WAL is checkpointed and cut back before it passes this size
    wal_max_mb: float = Field(64.0, ge=1)
    # iNAV history (Parquet segments beside the journal): every fund every `snapshot_every_s`
    # of data time (0 = every evaluation); traded funds at every evaluation
    snapshots: bool = True
    snapshot_every_s: float = Field(0.0, ge=0)
    snapshot_segment_rows: int = Field(65_536, gt=0)


class PremiumReversionSettings(Strict):
    enabled: bool = True
    symbols: list[str] = []  # empty = every fund
    entry_bp: float = Field(10.0, gt=0)
    exit_bp: float = Field(2.0, ge=0)
    order_notional_usd: float = Field(10_000.0, gt=0)
    flat_before_close_min: float = Field(10.0, ge=0)
    max_spread_bp: float = Field(25.0, gt=0)

    @model_validator(mode="after")
    def _exit_inside_entry(self) -> Self:
        if self.exit_bp >= self.entry_bp:
            raise ValueError("exit_bp must be smaller than entry_bp")
        return self


class StrategiesSettings(Strict):
    premium_reversion: PremiumReversionSettings = PremiumReversionSettings()
    premium_arb: PremiumArbSettings = PremiumArbSettings()
    moc_flow: MocFlowSettings = MocFlowSettings()
    mean_reversion: MeanReversionSettings = MeanReversionSettings()
    vol_hedge: VolHedgeSettings = VolHedgeSettings()
    decay_monitor: DecayMonitorSettings = DecayMonitorSettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INAVD_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    universe_file: Path | None = None  # None = the bundled universe
    run: RunSettings = RunSettings()
    feed: FeedSettings = FeedSettings()
    inav: InavSettings = InavSettings()
    broker: BrokerSettings = BrokerSettings()
    journal: JournalSettings = JournalSettings()
    strategies: StrategiesSettings = StrategiesSettings()
    sizing: SizingSettings = SizingSettings()
    risk: RiskSettings = RiskSettings()
    alpaca: AlpacaSettings = AlpacaSettings()
    reference: ReferenceSettings = ReferenceSettings()
    mqtt: MqttSettings = MqttSettings()
    ops: OpsSettings = OpsSettings()
    execution: ExecutionSettings = ExecutionSettings()
    paper: PaperSettings = PaperSettings()
    costs: CostSettings = CostSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment overrides the file (init kwargs carry the TOML contents). Without a
        # single INAVD_ variable the environment source finds nothing, and asking it anyway is
        # two thirds of a validation (≈ 0.5 ms: a backtest validates every task's settings)
        if not _environment_names_settings():
            return (init_settings,)
        return env_settings, init_settings


def _environment_names_settings() -> bool:
    """Whether any environment variable carries the settings' prefix (in any case, as the
    environment source reads them)."""
    prefix = Settings.model_config.get("env_prefix", "").lower()
    return any(name.lower().startswith(prefix) for name in os.environ)


class Config(BaseModel):
    """The resolved configuration: settings, the universe and where they came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    path: Path
    settings: Settings
    universe: UniverseSpec

    @property
    def journal_path(self) -> Path:
        p = self.settings.journal.path
        return p if p.is_absolute() else self.settings.run.data_dir / p


# ---------------------------------------------------------------- loading
def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses per nesting level
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _refuse_secrets(data: dict[str, Any], path: Path, prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            _refuse_secrets(value, path, dotted + ".")
        elif key.lower() in SECRET_KEYS and value not in ("", None):
            raise ConfigError(
                f"{path}: {dotted}: secrets are read only from the environment, not from files"
            )


def format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{path}: {key}: {msg}")
    return "\n".join(lines)


def load_universe(path: Path) -> UniverseSpec:
    data = _read_toml(path)
    try:
        return UniverseSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


def load_config(path: Path | None = None) -> Config:
    """The embedded default, with the user's file (if any) layered over it.

    Tables merge key by key; a scalar or a list in the user's file replaces the default's.
    `universe_file` resolves relative to the file that names it, else the bundled universe.
    """
    env_path = os.environ.get("INAVD_CONFIG")
    if path is None and env_path:
        path = Path(env_path)
    data = _read_toml(DEFAULT_CONFIG)
    universe_path = DEFAULT_UNIVERSE
    if path is not None and path.resolve() != DEFAULT_CONFIG.resolve():
        user = _read_toml(path)
        _refuse_secrets(user, path)
        data = merge_layers(data, user)
        if isinstance(user.get("universe_file"), str):
            named = Path(user["universe_file"])
            universe_path = named if named.is_absolute() else path.parent / named
    path = path or DEFAULT_CONFIG
    data.pop("universe_file", None)
    try:
        settings = Settings(universe_file=universe_path, **data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None
    universe = load_universe(settings.universe_file or universe_path)
    _check_cross_references(path, settings, universe)
    return Config(path=path, settings=settings, universe=universe)


def merge_layers(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` layered on `base`: nested tables merge, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = merge_layers(below, value)
        else:
            out[key] = value
    return out


def _check_cross_references(path: Path, s: Settings, u: UniverseSpec) -> None:
    for sym in s.strategies.premium_reversion.symbols:
        if s.strategies.premium_reversion.enabled and sym not in u.funds:
            raise ConfigError(
                f"{path}: strategies.premium_reversion.symbols: {sym!r} is not a fund"
            )
    problems = check_references(s.strategies, u.funds, u.benchmarks)
    if problems:
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))


def masked_dump(cfg: Config) -> dict[str, Any]:
    """The resolved configuration with anything secret-looking masked."""
    layers = [str(DEFAULT_CONFIG)] + ([str(cfg.path)] if cfg.path != DEFAULT_CONFIG else [])
    out = {
        "config": str(cfg.path),
        "layers": layers,
        "effective": describe_trading(cfg.settings.broker.kind, cfg.settings.alpaca),
        "settings": cfg.settings.model_dump(mode="json"),
        "universe": cfg.universe.model_dump(mode="json"),
    }
    masked: dict[str, Any] = _mask(out)
    return masked


def _mask(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: ("***" if k.lower() in SECRET_KEYS and v else _mask(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask(v) for v in obj]
    if isinstance(obj, str):
        return redact(obj)  # a password inside a URL (INAVD_MQTT__URL=mqtt://u:p@host)
    return obj
