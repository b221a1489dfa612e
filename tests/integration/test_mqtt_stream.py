"""MQTT side channel against the real Mosquitto on 127.0.0.1:1883 (unique topic prefix per test)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from tests.kit.opskit import make_app, retained, running, unique_prefix, watch, write_config
from tests.kit.waits import until

from inavd.domain.events import TradingState


@pytest.mark.slow
async def test_retained_inav_for_every_fund_and_events_during_replay(tmp_path: Path) -> None:
    prefix = unique_prefix()
    cfg = write_config(
        tmp_path, {"mqtt": {"enabled": True, "topic_prefix": prefix, "instance": "a"}}
    )
    app = make_app(cfg)
    async with watch(f"{prefix}/#") as live:
        summary = await app.run()
        await until(lambda: (live.last("/status") or {}).get("status") == "offline")
        await until(lambda: len(live.on("/fills")) >= summary["fills"], within=5)
    priced = [
        s
        for s, v in zip(app.engine.fund_symbols, app.engine.evaluate(0).inav, strict=True)
        if np.isfinite(v)
    ] or list(app.engine.fund_symbols)
    # the retained store now holds one iNAV per fund: the last evaluation of the session
    kept = await retained(f"{prefix}/a/inav/+")
    by_symbol = {t.rsplit("/", 1)[1]: p for t, p, r in kept.messages if r}
    assert set(by_symbol) == set(app.engine.fund_symbols)
    assert set(priced) <= set(by_symbol)
    last_seq = summary["inav_evaluations"]
    for sym, p in by_symbol.items():
        assert p["symbol"] == sym and p["seq"] == last_seq
        assert p["ts"].startswith("2019-12-19T21:00:00")
        if p["inav"] is not None and p["mid"] is not None:
            assert math.isclose(p["premium_bp"], (p["mid"] / p["inav"] - 1) * 1e4, rel_tol=1e-6)
    # iNAV arrived while the replay ran (not only at the end), conflated per fund
    inav_live = live.on("/inav/SQQQ")
    assert len(inav_live) >= 1 and inav_live[-1]["seq"] == last_seq
    # QoS 1 event streams: nothing lost with a healthy broker
    assert len(live.on("/fills")) == summary["fills"]
    submitted = [o for o in live.on("/orders") if o["event"] == "submitted"]
    assert len(submitted) == summary["orders"]
    assert len(live.on("/signals")) == sum(summary["signals"].values())
    statuses = [p["status"] for p in live.on("/status")]
    assert statuses[0] == "online" and statuses[-1] == "offline"


@pytest.mark.slow
async def test_status_online_carries_version_and_trading_state(tmp_path: Path) -> None:
    prefix = unique_prefix()
    cfg = write_config(
        tmp_path, {"mqtt": {"enabled": True, "topic_prefix": prefix, "instance": "b"}}
    )
    app = make_app(cfg, serve=True)
    async with watch(f"{prefix}/b/status") as w, running(app):
        await until(lambda: w.last("/status") is not None, within=15)
        online = w.last("/status")
        assert online is not None
        assert online["status"] == "online" and online["trading_state"] == "active"
        assert online["version"] and online["run_id"] == app.run_id
        app.trading_state.set(TradingState.REDUCING, "test")
        await until(lambda: (w.last("/status") or {}).get("trading_state") == "reducing")
    assert (w.last("/status") or {}).get("status") == "offline"
