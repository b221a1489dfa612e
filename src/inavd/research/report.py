"""report.html of a backtest: one self-contained file, plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from inavd.research.metrics import PREMIUM_EDGES
from inavd.research.totals import ok_rows

Row = dict[str, Any]

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f4f4f4}.err{color:#b00;text-align:left}img{max-width:100%}"
)


def write_report(out: Path, rows: list[Row], summary: Row) -> Path:
    ok = ok_rows(rows)
    images = [
        ("Equity curve (cumulative daily P&L after costs)", _png(_equity, ok)),
        ("Daily P&L by strategy", _png(_by_strategy, ok)),
        ("Premium/discount to iNAV seen (all funds, all days)", _png(_premiums, ok)),
    ]
    body = [
        "<h1>inavd backtest</h1>",
        f"<p>{html.escape(str(summary.get('target', '')))}; config "
        f"{html.escape(str(summary.get('config', '')))}</p>",
        "<h2>Total</h2>",
        _table(["key", "value"], [[k, _fmt(v)] for k, v in summary["total"].items()]),
        "<h2>Days</h2>",
        _days_table(rows),
        "" if can_plot() else "<p>No plots: pip install 'inavd[research]' to draw them.</p>",
        *(f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>"
          for t, b in images if b),
    ]  # fmt: skip
    path = out / "report.html"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>inavd backtest</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
    return path


def _days_table(rows: list[Row]) -> str:
    head = ["day", "orders", "fills", "realized", "unrealized", "fees", "total", "turnover",
            "max drawdown", "error"]  # fmt: skip
    body = []
    for r in rows:
        p = r.get("pnl") or {}
        body.append(
            [
                r["day"],
                r.get("orders"),
                r.get("fills"),
                p.get("realized"),
                p.get("unrealized"),
                p.get("fees"),
                p.get("total"),
                r.get("turnover"),
                r.get("max_drawdown"),
                r.get("error", ""),
            ]
        )
    return _table(head, body)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(_cell(c, head[i] == "error") for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{th}</tr>{trs}</table>"


def _cell(value: Any, error: bool) -> str:
    return f"<td{' class=err' if error else ''}>{html.escape(_fmt(value))}</td>"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def can_plot() -> bool:
    """matplotlib is the optional `report` extra (part of `research`)."""
    return importlib.util.find_spec("matplotlib") is not None


def _png(draw: Any, rows: list[Row]) -> str:
    if not rows or not can_plot():
        return ""
    from inavd.analysis import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4))
    try:
        draw(ax, rows)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _equity(ax: Any, rows: list[Row]) -> None:
    days = [r["day"] for r in rows]
    equity = np.cumsum([r["pnl"]["total"] for r in rows])
    ax.plot(days, equity, marker="o", color="tab:blue")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylabel("USD")
    ax.tick_params(axis="x", rotation=45)
    ax.grid(alpha=0.3)


def _by_strategy(ax: Any, rows: list[Row]) -> None:
    days = [r["day"] for r in rows]
    names = sorted({s for r in rows for s in r["pnl"]["by_strategy"]})
    x = np.arange(len(days))
    up, down = np.zeros(len(days)), np.zeros(len(days))
    for name in names:
        v = np.array([r["pnl"]["by_strategy"].get(name, 0.0) for r in rows])
        base = np.where(v >= 0, up, down)  # stack gains upwards and losses downwards
        ax.bar(x, v, bottom=base, label=name)
        up, down = up + np.maximum(v, 0), down + np.minimum(v, 0)
    ax.set_xticks(x, days, rotation=45)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylabel("USD")
    if names:
        ax.legend(fontsize=8)


def _premiums(ax: Any, rows: list[Row]) -> None:
    counts = np.sum([r.get("premium_hist", [0] * (len(PREMIUM_EDGES) - 1)) for r in rows], axis=0)
    width = float(PREMIUM_EDGES[1] - PREMIUM_EDGES[0])
    ax.bar(PREMIUM_EDGES[:-1], counts, width=width, align="edge", color="tab:purple")
    ax.set_xlabel("premium (+) / discount (−) to iNAV, bp (end bins include beyond ±50)")
    ax.set_ylabel("iNAV snapshots")
