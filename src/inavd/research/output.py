"""Result files: backtest summary.json and days.parquet; sweep results.parquet, summary.csv and
the heatmap of a two-key grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inavd.research.grid import Grid, Overrides
from inavd.research.report import can_plot
from inavd.research.totals import totals

Row = dict[str, Any]
HIDDEN = ("premium_hist",)  # kept for the report, not part of the published rows


def public(row: Row) -> Row:
    return {k: v for k, v in row.items() if k not in HIDDEN}


def row_json(row: Row) -> str:
    """The canonical text of a row: what "identical results" means."""
    return json.dumps(public(row), sort_keys=True, separators=(",", ":"))


def flat(row: Row) -> Row:
    """A row as table columns: the pnl block spread out, by_strategy as JSON text."""
    pnl = row.get("pnl") or {}
    out: Row = {"day": row["day"], "orders": row.get("orders"), "fills": row.get("fills")}
    for key in ("realized", "unrealized", "fees", "total"):
        out[f"pnl_{key}"] = pnl.get(key)
    by = pnl.get("by_strategy")
    out["pnl_by_strategy"] = json.dumps(by, sort_keys=True) if by is not None else None
    out["turnover"] = row.get("turnover")
    out["max_drawdown"] = row.get("max_drawdown")
    out["error"] = row.get("error")
    return out


def _table(rows: list[Row]) -> pd.DataFrame:
    frame = pd.DataFrame([flat(r) for r in rows])
    for col in ("orders", "fills"):
        frame[col] = frame[col].astype("Int64")
    for col in ("pnl_realized", "pnl_unrealized", "pnl_fees", "pnl_total", "turnover"):
        frame[col] = frame[col].astype("float64")
    frame["max_drawdown"] = frame["max_drawdown"].astype("float64")
    frame["error"] = frame["error"].astype("string")
    return frame


def write_backtest(out: Path, rows: list[Row], meta: Row) -> Row:
    out.mkdir(parents=True, exist_ok=True)
    summary = {"days": [public(r) for r in rows], "total": totals(rows), **meta}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    _table(rows).to_parquet(out / "days.parquet", index=False)
    return summary


def write_sweep(out: Path, grid: Grid, points: list[Overrides], rows: list[Row]) -> pd.DataFrame:
    """results.parquet (setting × day), summary.csv (per setting), heatmap.png (two keys)."""
    out.mkdir(parents=True, exist_ok=True)
    keys = [k for k, _ in grid]
    table = _table(rows)
    index = {json.dumps(p, sort_keys=True): i for i, p in enumerate(points)}
    table.insert(0, "setting", [index[json.dumps(r["setting"], sort_keys=True)] for r in rows])
    for j, key in enumerate(keys):
        table.insert(1 + j, key, _column([r["setting"][key] for r in rows]))
    table.to_parquet(out / "results.parquet", index=False)
    per = pd.DataFrame([_setting_row(i, p, rows) for i, p in enumerate(points)])
    per.to_csv(out / "summary.csv", index=False)
    if len(keys) == 2 and can_plot():
        write_heatmap(out / "heatmap.png", per, keys)
    return per


def _setting_row(i: int, point: Overrides, rows: list[Row]) -> Row:
    mine = [r for r in rows if r.get("setting") == point]
    t = totals(mine)
    values = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in point.items()}
    return {"setting": i, **values, "pnl_total": t["pnl"], "sharpe": t["sharpe"],
            "sortino": t["sortino"], "max_drawdown": t["max_drawdown"],
            "hit_rate": t["hit_rate"], "days": t["days"], "failed": t["failed"]}  # fmt: skip


def _column(values: list[Any]) -> pd.Series:
    """Numbers stay numbers; anything else (strings, lists, mixed) becomes its JSON text."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        return pd.Series(values, dtype="float64")
    return pd.Series([v if isinstance(v, str) else json.dumps(v) for v in values], dtype="string")


def write_heatmap(png: Path, per: pd.DataFrame, keys: list[str]) -> None:
    from inavd.analysis import pyplot

    grid = per.pivot_table(index=keys[0], columns=keys[1], values="pnl_total", sort=False)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(grid.columns) + 3, 0.8 * len(grid.index) + 2))
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    span = float(np.abs(finite).max()) if finite.size else 1.0
    span = span if span > 0 else 1.0  # zero in the middle of the colour scale: red loses
    image = ax.imshow(values, cmap="RdYlGn", aspect="auto", vmin=-span, vmax=span)
    ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
    ax.set_yticks(range(len(grid.index)), [str(i) for i in grid.index])
    ax.set_xlabel(keys[1])
    ax.set_ylabel(keys[0])
    for y, x in zip(*np.nonzero(np.isfinite(values)), strict=True):
        ax.text(x, y, f"{values[y, x]:,.0f}", ha="center", va="center", fontsize=9)
    fig.colorbar(image, ax=ax, label="total P&L after costs (USD)")
    ax.set_title("sweep: total P&L by setting")
    fig.tight_layout()
    try:
        fig.savefig(png, dpi=100)
    finally:
        plt.close(fig)
