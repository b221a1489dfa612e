"""The ops metrics count per-event figures as plain integers and build the Prometheus families at
scrape time; the histogram must match what prometheus-client's own Histogram would export."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from inavd.domain.events import OrderDenied, OrderSubmitted
from inavd.domain.orders import OrderRequest, Side
from inavd.ops.metrics import EVAL_BUCKETS, Metrics


def _metrics() -> Metrics:
    app: Any = SimpleNamespace(core=SimpleNamespace(last_eval_s=0.0))
    return Metrics(app, health=None)  # type: ignore[arg-type]  # only read at scrape time


def _samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in m.event_families()
        for s in fam.samples
    }


def test_histogram_worked_example() -> None:
    m = _metrics()
    for x in (3e-5, 1e-5, 0.2):  # 1e-5 sits exactly on a bound: `le` is inclusive
        m.observe_eval(x)
    got = _samples(m)
    bucket = "inavd_inav_evaluation_seconds_bucket"
    assert got[(bucket, (("le", "1e-05"),))] == 1
    assert got[(bucket, (("le", "2.5e-05"),))] == 1
    assert got[(bucket, (("le", "5e-05"),))] == 2
    assert got[(bucket, (("le", "0.1"),))] == 2
    assert got[(bucket, (("le", "+Inf"),))] == 3
    assert got[("inavd_inav_evaluation_seconds_count", ())] == 3
    assert abs(got[("inavd_inav_evaluation_seconds_sum", ())] - 0.20004) < 1e-12


@given(st.lists(st.floats(0, 0.5, allow_nan=False), max_size=40))
def test_histogram_matches_prometheus_client(xs: list[float]) -> None:
    m = _metrics()
    ref = Histogram("h", "h", buckets=EVAL_BUCKETS, registry=CollectorRegistry())
    for x in xs:
        m.observe_eval(x)
        ref.observe(x)
    ours = {
        s.labels["le"]: s.value
        for fam in m.event_families()
        for s in fam.samples
        if s.name.endswith("_bucket")
    }
    theirs = {
        s.labels["le"]: s.value
        for fam in ref.collect()
        for s in fam.samples
        if s.name.endswith("_bucket")
    }
    assert ours == theirs


def test_orders_and_denials_by_label_via_the_bus_observer() -> None:
    m = _metrics()
    seen: list[OrderDenied] = []
    m.extra.append(seen.append)  # the status page's recent-denials list rides on the same call
    req = OrderRequest("c1", "SH", Side.BUY, 10.0)
    m.on_event(OrderSubmitted(1, req))
    m.on_event(OrderDenied(2, "halted", "trading halted", req))
    m.on_event(OrderDenied(3, "halted", "trading halted", req))
    got = _samples(m)
    assert got[("inavd_orders_submitted_total", ())] == 1
    assert got[("inavd_denials_total", (("gate", "halted"),))] == 2
    assert len(seen) == 2
