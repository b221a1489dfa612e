"""Parameter grids (`--grid KEY=V1,V2,…`) and dotted-key overrides validated by the config model.

A dotted key becomes a nested override dict merged over the resolved settings, which are then
validated again by the same model the config loader uses, so a sweep point is refused with the
same one-line message a config file with that value would get.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inavd.errors import ConfigError
from inavd.settings import Config, Settings, format_validation_error, merge_layers
from inavd.settings import _check_cross_references as check_cross_references

Overrides = dict[str, Any]  # dotted key → value
Grid = list[tuple[str, list[Any]]]

# Keys the research runner sets itself for every task (where it runs, what it replays).
RESERVED = (
    "run.data_dir",
    "run.run_id",
    "journal.path",
    "journal.synchronous",
    "feed.kind",
    "feed.path",
    "feed.session",
)


def parse_value(text: str) -> Any:
    """A grid value as TOML would read it (`5` → 5, `2.5`, `true`, `"x"`, `[1, 2]`); anything
    TOML cannot read is taken as a bare string (`--grid broker.kind=paper`)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def split_values(text: str) -> list[str]:
    """Split at commas outside brackets and quotes, so list values survive (`[1,2],[3]`)."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return out


def parse_grid(specs: list[str]) -> Grid:
    grid: Grid = []
    for spec in specs:
        key, eq, values = spec.partition("=")
        key = key.strip()
        items = split_values(values) if eq else []
        if not key or not items or any(not v for v in items):
            raise ConfigError(f"--grid {spec!r}: expected KEY=V1,V2,… (e.g. inav.interval_s=5,15)")
        if any(key == k for k, _ in grid):
            raise ConfigError(f"--grid: {key} is given twice")
        if key in RESERVED or key.startswith("run."):
            raise ConfigError(f"--grid: {key} is set by the research runner and cannot be swept")
        grid.append((key, [parse_value(v) for v in items]))
    return grid


def grid_points(grid: Grid) -> list[Overrides]:
    """The product of the grid, in the order the keys and values were given."""
    keys = [k for k, _ in grid]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in grid))
    ]


def nested(overrides: Overrides) -> dict[str, Any]:
    """{"a.b.c": 1, "a.d": 2} → {"a": {"b": {"c": 1}, "d": 2}}."""
    out: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{dotted}: {part} is both a value and a section")
            node = child
        node[leaf] = value
    return out


def apply_overrides(cfg: Config, overrides: Overrides, origin: str = "--grid") -> Config:
    """`cfg` with the dotted overrides applied and validated; a bad key or value raises the
    config loader's one-line error, naming `origin` instead of a file."""
    if not overrides:
        return cfg
    data = merge_layers(cfg.settings.model_dump(), nested(overrides))
    label = Path(origin)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(label, exc)) from None
    check_cross_references(label, settings, cfg.universe)
    return cfg.model_copy(update={"settings": settings})
