"""The in-house GARCH(1,1) estimator: the filter, the likelihood, agreement with `arch`, and a
daemon start-up that imports neither arch nor scipy."""

from __future__ import annotations

import math
import subprocess
import sys
import time
import warnings
from datetime import date

import numpy as np
import pytest
from tests.kit.garch import simulate_garch

from inavd.signals.factory import load_daily_returns
from inavd.signals.garch import backcast, fit_garch11, linear_filter, neg_loglik

SESSION = date(2019, 12, 19)  # the default replay's day: closes strictly before it


def loop_variances(y: np.ndarray, mu: float, omega: float, alpha: float, beta: float) -> list:
    """The textbook recursion, one day at a time, with arch's backcast before the sample."""
    bc = backcast(y - y.mean())
    e2_prev, s2_prev, out = bc, bc, []
    for x in y:
        s2 = omega + alpha * e2_prev + beta * s2_prev
        out.append(s2)
        e2_prev, s2_prev = (x - mu) ** 2, s2
    return out


def arch_reference(y: np.ndarray, tight: bool) -> tuple[float, float]:
    """arch's log-likelihood and one-day-ahead variance; `tight` runs its SLSQP to 1e-12."""
    from arch import arch_model

    kw = {"tol": 1e-12, "options": {"maxiter": 2000}} if tight else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off", **kw)
    forecast = float(res.forecast(horizon=1, reindex=False).variance.values[-1, 0])
    return float(res.loglikelihood), forecast


def test_backcast_is_arch_s_ewma_of_the_first_75_squares() -> None:
    e = np.arange(1.0, 101.0)
    w = 0.94 ** np.arange(75)
    assert backcast(e) == pytest.approx(float(np.sum(e[:75] ** 2 * w) / w.sum()), rel=1e-15)
    assert backcast(np.array([2.0, -2.0])) == pytest.approx(4.0)


@pytest.mark.parametrize("beta", [0.0, 1e-300, 1e-6, 0.3, 0.97, 0.999999])
def test_the_vectorised_filter_is_the_recursion(beta: float) -> None:
    # small β takes the doubling scan, large β the blockwise cumulative sum
    u = np.random.default_rng(7).random((2, 3000)) * [[1.0], [1e4]]
    b = np.array([beta, beta])
    x0 = np.array([2.0, 0.5])
    got = linear_filter(b, u, x0)
    for k in range(2):
        prev = x0[k]
        for t in range(u.shape[1]):
            prev = beta * prev + u[k, t]
            assert got[k, t] == pytest.approx(prev, rel=1e-12)


def test_likelihood_worked_example() -> None:
    # three returns by hand: mean 0, backcast = (0.94⁰·1 + 0.94¹·4 + 0.94²·1) / (1 + .94 + .8836)
    y = np.array([1.0, -2.0, 1.0])
    bc = (1 + 0.94 * 4 + 0.8836) / (1 + 0.94 + 0.8836)
    assert backcast(y) == pytest.approx(bc)
    mu, omega, alpha, beta = 0.0, 0.1, 0.2, 0.7
    s2 = [omega + (alpha + beta) * bc]
    s2.append(omega + alpha * 1.0 + beta * s2[0])
    s2.append(omega + alpha * 4.0 + beta * s2[1])
    terms = (math.log(2 * math.pi) + math.log(v) + x * x / v for v, x in zip(s2, y, strict=True))
    want = 0.5 * sum(terms)
    got = neg_loglik(y, bc, np.array([[mu, omega, alpha, beta]]))
    assert got[0] == pytest.approx(want, rel=1e-14)


def test_loop_and_batch_agree_on_real_data() -> None:
    y = 100 * load_daily_returns("sample", SESSION)["IWM"]
    theta = np.array([[0.05, 0.06, 0.14, 0.81], [-0.1, 0.2, 0.05, 0.9]])
    bc = backcast(y - y.mean())
    for row, nll in zip(theta, neg_loglik(y, bc, theta), strict=True):
        s2 = np.array(loop_variances(y, *row))
        want = 0.5 * np.sum(np.log(2 * np.pi) + np.log(s2) + (y - row[0]) ** 2 / s2)
        assert nll == pytest.approx(want, rel=1e-12)


def test_bundled_iwm_fit_worked_example() -> None:
    """The default run hedges IWM: two years of closes before the session."""
    fit = fit_garch11(100 * load_daily_returns("sample", SESSION)["IWM"])
    assert fit.converged
    assert (fit.alpha, fit.beta) == pytest.approx((0.14205, 0.81360), abs=1e-4)
    assert math.sqrt(fit.forecast * 252) / 100 == pytest.approx(0.11413, abs=1e-5)


def _cases() -> list[tuple[str, np.ndarray]]:
    rets = load_daily_returns("sample", SESSION)
    out = [(s, 100 * rets[s]) for s in ("SPY", "QQQ", "IWM", "DIA")]
    # a realistic equity process (σ ≈ 1 % a day), more persistent, and a short-memory one.
    # a4 peaks higher on the β = 0 edge than inside, and arch finds that edge too
    out += [(f"a{s}", 100 * simulate_garch(500, 1e-5, 0.08, 0.82, s)) for s in range(8)]
    out += [(f"b{s}", 100 * simulate_garch(750, 2e-6, 0.10, 0.88, s)) for s in range(4)]
    out += [(f"c{s}", 100 * simulate_garch(300, 5e-5, 0.15, 0.50, s)) for s in range(1, 5)]
    return out


@pytest.mark.parametrize(("name", "y"), _cases(), ids=[c[0] for c in _cases()])
def test_agrees_with_arch(name: str, y: np.ndarray) -> None:
    pytest.importorskip("arch")
    fit = fit_garch11(y)
    assert fit.converged
    # arch's default stopping rule leaves its optimum a little short: never better than ours
    ll_default, _ = arch_reference(y, tight=False)
    assert fit.loglik >= ll_default - 1e-6
    # run to its end, arch finds the same optimum and the same forecast
    ll_tight, var_tight = arch_reference(y, tight=True)
    assert fit.loglik >= ll_tight - 1e-6
    assert fit.forecast == pytest.approx(var_tight, rel=1e-4)


@pytest.mark.parametrize(
    ("y", "edge"),
    [
        (100 * simulate_garch(300, 5e-5, 0.15, 0.50, 0), "alpha"),
        (100 * simulate_garch(1000, 1e-4 * (1 - 0.064 - 0.672), 0.064, 0.672, 1005), "beta"),
    ],
    ids=["alpha=0", "beta=0"],
)
def test_finds_the_higher_peak_where_arch_stops_at_a_lower_one(y: np.ndarray, edge: str) -> None:
    """Two peaks, one inside and a higher one on an edge: arch climbs to the inside one from
    its starting values; we fit the edges too and keep the more likely."""
    pytest.importorskip("arch")
    fit = fit_garch11(y)
    assert fit.converged and getattr(fit, edge) == 0.0
    assert fit.loglik > arch_reference(y, tight=True)[0] + 0.01


@pytest.mark.parametrize("seed", range(4))
def test_no_garch_effect_is_at_least_as_likely_as_arch(seed: int) -> None:
    """I.i.d. returns put the optimum on the α = 0 edge (or near it), where the likelihood is
    flat and can have more than one peak: ours must be no lower than arch's."""
    pytest.importorskip("arch")
    y = np.random.default_rng(seed).standard_normal(500)
    fit = fit_garch11(y)
    assert fit.converged and fit.alpha < 0.1
    assert fit.loglik >= arch_reference(y, tight=True)[0] - 1e-6


def test_fit_is_fast_on_the_default_run_s_data() -> None:
    y = 100 * load_daily_returns("sample", SESSION)["IWM"]
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        fit_garch11(y)
        times.append(time.perf_counter() - t0)
    # about 2.5 ms on an idle machine (bench/RESULTS.md); the bound leaves room for load
    assert sorted(times)[len(times) // 2] < 0.05


def test_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="not all equal"):
        fit_garch11(np.full(100, 0.5))
    with pytest.raises(ValueError):
        fit_garch11(np.array([1.0, np.nan, 2.0]))


def test_daemon_start_imports_neither_arch_nor_scipy() -> None:
    """Importing the run path and building the default signals (which fits GARCH on the bundled
    closes) must not load arch or scipy: they cost about 1.5 s and 90 MB at every start."""
    probe = (
        "import sys, inavd.app\n"
        "from inavd.settings import load_config\n"
        "from inavd.universe import build_universe\n"
        "from inavd.signals.factory import build_signals\n"
        "from inavd.signals.vol_hedge import VolHedge\n"
        "import datetime\n"
        "cfg = load_config()\n"
        "sigs = build_signals(cfg.settings, build_universe(cfg.universe),"
        " datetime.date(2019, 12, 19))\n"
        "hedge = [s for s in sigs if isinstance(s, VolHedge)]\n"
        "print('daily:' + ','.join(v.method for h in hedge for v in h.daily.values()))\n"
        "print('loaded:' + ','.join(m for m in ('arch', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[-2] == "daily:garch"  # the probe did fit GARCH
    assert out[-1] == "loaded:"
