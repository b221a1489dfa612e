"""The ops endpoint on a served replay: every endpoint's content, auth, and state changes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from tests.kit.opskit import make_app, ops_of, running, write_config
from tests.kit.waits import until

from inavd import native
from inavd.app import App
from inavd.domain.events import TradingState

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
TOKEN = "t0ken-for-tests"
REQUIRED = (
    "inavd_quotes_total",
    "inavd_quotes_rejected_total",
    "inavd_inav_evaluation_seconds",
    "inavd_premium_bp",
    "inavd_orders_submitted_total",
    "inavd_fills_total",
    "inavd_pnl_usd",
    "inavd_exposure_usd",
    "inavd_daily_loss_headroom_usd",
    "inavd_broker_request_seconds",
    "inavd_build_info",
    "inavd_denials_total",
    "inavd_feed_age_seconds",
    "inavd_trading_state",
    "inavd_event_loop_lag_seconds",
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[App, str]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INAVD_OPS__TOKEN", TOKEN)
        cfg = write_config(tmp_path_factory.mktemp("ops"), {"ops": {"enabled": True, "port": 0}})
        app = make_app(cfg, serve=True)
    async with running(app):
        await until(lambda: app.core.closed, within=30)
        yield app, ops_of(app).url


async def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, await r.text()


async def _json(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, await r.json()


async def test_healthz_reports_a_fresh_heartbeat(served: tuple[App, str]) -> None:
    status, body = await _json(served[1] + "/healthz")
    assert status == 200 and body["ok"] is True
    assert 0 <= body["heartbeat_age_s"] < body["max_age_s"]
    assert body["failed_tasks"] == {}


async def test_readyz_names_each_check(served: tuple[App, str]) -> None:
    status, body = await _json(served[1] + "/readyz")
    assert status == 200 and body["ready"] is True
    assert set(body["checks"]) == {"feed", "broker", "journal"}
    assert all(c["ok"] for c in body["checks"].values())
    assert "market closed" in body["checks"]["feed"]["detail"]  # the replayed session ended


async def test_metrics_exports_the_documented_names_with_real_values(
    served: tuple[App, str],
) -> None:
    app, url = served
    status, text = await _get(url + "/metrics")
    assert status == 200
    for name in REQUIRED:
        assert f"# TYPE {name} " in text, name
        if name != "inavd_denials_total":  # labelled by gate: no samples until a denial
            assert re.search(rf"^{name}(_bucket|_count)?[{{ ]", text, re.M), name
    assert ("inavd_denials_total{" in text) == bool(app.collector.denials)
    quotes = float(re.search(r"^inavd_quotes_total (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert quotes == app.core.quotes == 1_163_786
    evals = re.search(r"^inavd_inav_evaluation_seconds_count (\S+)$", text, re.M)
    assert evals and float(evals.group(1)) == app.core.evaluations
    submitted = re.search(r"^inavd_orders_submitted_total (\S+)$", text, re.M)
    assert submitted and float(submitted.group(1)) == app.collector.orders
    for reason, n in app.book.rejected_by_reason().items():
        assert f'inavd_quotes_rejected_total{{reason="{reason}"}} {float(n)}' in text
    build = re.search(r'^inavd_build_info\{.*decision_path="(\w+)".*\} 1\.0$', text, re.M)
    assert build and build.group(1) == native.state()[0]  # which build the operator runs


async def test_status_needs_the_token_and_has_the_tables(served: tuple[App, str]) -> None:
    app, url = served
    assert (await _get(url + "/status"))[0] == 401
    assert (await _get(url + "/status", "wrong"))[0] == 401
    status, body = await _json(url + "/status", TOKEN)
    assert status == 200
    assert body["trading_state"]["state"] == app.trading_state.state.value
    funds = {f["symbol"]: f for f in body["inav"]["funds"]}
    assert set(funds) == set(app.engine.fund_symbols)
    sqqq = funds["SQQQ"]
    assert sqqq["premium_bp"] == pytest.approx((sqqq["mid"] / sqqq["inav"] - 1) * 1e4, abs=0.02)
    assert body["positions"] == {s: q for s, q in app.router.ledger.qty.items() if q}
    assert body["orders"] == app.collector.orders and body["fills"] == app.collector.fills
    assert set(body["denials"]) == {"by_gate", "recent"}
    # no corporate action on 2019-12-19; every fund priced from its prior close, and flagged
    ref = body["reference"]
    assert ref["corporate_actions"] == "bundled" and ref["adjustments"] == []
    assert ref["flagged_prior_close_as_nav"] == sorted(app.engine.fund_symbols)
    # times as the market reads them; money as the metrics report it
    assert body["data_time_ny"].startswith("2019-12-19 1") and body["data_time_ny"].endswith(" EST")
    assert body["wall_time_ny"].endswith((" EST", " EDT"))
    money, ledger = body["money"], app.router.ledger
    assert money["realized_pnl_usd"] == pytest.approx(ledger.realized_pnl_usd, abs=0.01)
    assert set(money["positions_usd"]) == set(body["positions"])
    gross = sum(abs(v) for v in money["positions_usd"].values())
    assert money["gross_exposure_usd"] == pytest.approx(gross, abs=0.05)
    limit = app.cfg.settings.risk.daily_loss_limit_usd
    assert money["daily_loss_limit_usd"] == limit
    assert money["daily_loss_headroom_usd"] == pytest.approx(max(limit + app.gates.pnl_usd(), 0))


async def test_post_trading_state_requires_the_token(served: tuple[App, str]) -> None:
    app, url = served
    async with aiohttp.ClientSession() as s:
        body = {"state": "halted", "reason": "maintenance"}
        async with s.post(url + "/trading-state", json=body) as r:
            assert r.status == 401
        assert app.trading_state.state is TradingState.ACTIVE
        # a web page's cross-site POST: no preflight-free JSON, foreign Origin and Host
        forged = {"Content-Type": "text/plain", "Origin": "http://evil.example"}
        for headers in (forged, {**forged, "Host": "evil.example"}):
            async with s.post(url + "/trading-state", data=b'{"state":"halted"}',
                              headers=headers) as r:  # fmt: skip
                assert r.status == 403, await r.text()
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with s.post(url + "/trading-state", data=b'{"state": "halted"}',
                          headers={**auth, "Content-Type": "text/plain"}) as r:  # fmt: skip
            assert r.status == 415
        assert app.trading_state.state is TradingState.ACTIVE
        async with s.post(url + "/trading-state", json={"state": "nope"}, headers=auth) as r:
            assert r.status == 400
        async with s.post(url + "/trading-state", json=body, headers=auth) as r:
            assert r.status == 200 and (await r.json()) == {"state": "halted", "changed": True}
        assert app.trading_state.state.value == "halted"
        assert app.trading_state.reason == "maintenance"
        _, text = await _get(url + "/metrics")
        assert "inavd_trading_state 2.0" in text
        async with s.post(url + "/trading-state", json={"state": "active"}, headers=auth) as r:
            assert r.status == 200


async def test_operator_commands_over_http(served: tuple[App, str]) -> None:
    app, url = served
    auth = {"Authorization": f"Bearer {TOKEN}"}
    held = sum(1 for q in app.router.ledger.qty.values() if abs(q) >= 1)
    async with aiohttp.ClientSession() as s:
        async with s.post(url + "/operator", json={"command": "flatten"}) as r:
            assert r.status == 401
        bad = {"command": "sell-everything"}
        async with s.post(url + "/operator", json=bad, headers=auth) as r:
            assert r.status == 400
        assert app.trading_state.state is TradingState.ACTIVE
        async with s.post(url + "/operator", json={"command": "cancel-all"}, headers=auth) as r:
            assert r.status == 200 and (await r.json())["state"] == "active"
        body = {"command": "flatten", "reason": "end of test"}
        async with s.post(url + "/operator", json=body, headers=auth) as r:
            assert r.status == 200
            assert await r.json() == {"command": "flatten", "orders": held, "state": "reducing"}
        assert app.trading_state.reason == "operator flatten (http): end of test"
        async with s.post(url + "/trading-state", json={"state": "active"}, headers=auth) as r:
            assert r.status == 200
