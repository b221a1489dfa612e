"""GARCH(1,1) with a constant mean, Gaussian maximum likelihood, in numpy alone.

The model is the one `arch` fits with `arch_model(y, mean="Constant", vol="GARCH", p=1, q=1)`:

    y_t = μ + e_t,   σ²_t = ω + α e²_{t-1} + β σ²_{t-1},   e_t ~ N(0, σ²_t)

with arch's start-up convention: the pre-sample e² and σ² are both the "backcast", an EWMA
(weights 0.94^k, k < 75, normalised) of the first squared deviations from the sample mean, fixed
before the fit. So the likelihood surface is arch's and so is its optimum (tests check both
against arch). arch also clips σ² to very loose bounds (10⁻⁶…10⁶ × an EWMA) that never bind at
an optimum; we do not.

Why not arch itself: importing it pulls scipy.stats, statsmodels and more (about 1.5 s and 90 MB
in every process that starts the daemon), for a fit that needs a few milliseconds.

How: σ² is a first-order linear filter of e², evaluated for a whole batch of parameter sets at
once with cumulative sums (no Python loop over days). Newton steps on finite-difference
derivatives (each step one batch of 15 points) climb from the best point of a small grid, on
unconstrained coordinates that map onto ω > 0, α, β ≥ 0, α + β < 1; Nelder–Mead takes over where
Newton cannot (outside a basin, or towards an edge). The likelihood can peak on an edge (β = 0
or α = 0) as well as inside, so the edges are fitted as models of their own (`fit_garch11` says
which wins). About 3 ms for two years of closes.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

_LOG_2PI = math.log(2.0 * math.pi)
# A block of the filter spans at most this many decades of β^k, so β^-k stays finite.
_MAX_DECADES = 100.0
_NEGLIGIBLE = 1e-30
_LOG_NEGLIGIBLE = math.log(_NEGLIGIBLE)


class GarchFit(msgspec.Struct, frozen=True):
    mu: float
    omega: float
    alpha: float
    beta: float
    loglik: float
    forecast: float  # one-step-ahead conditional variance, in the units of y squared
    converged: bool
    evaluations: int


def backcast(e: Array) -> float:
    """arch's pre-sample variance: EWMA weights 0.94^k over the first 75 squared residuals."""
    tau = min(75, e.size)
    w = 0.94 ** np.arange(tau)
    return float(np.sum(e[:tau] ** 2 * (w / w.sum())))


def linear_filter(beta: Array, u: Array, x0: Array) -> Array:
    """x_t = β x_{t-1} + u_t for each row (β: (K,), u: (K, T) ≥ 0, x0 = x_{-1}: (K,)).

    Within a block, x_{s+k} = β^k (β x_{s-1} + Σ_{j≤k} β^-j u_{s+j}): one cumulative sum of
    positive terms, so no precision is lost. A block is cut where β^k would fall below 10^-100,
    so that 1/β^k cannot overflow; when that makes blocks short (small β), a doubling scan does
    the work in log₂ T steps instead.
    """
    n = u.shape[1]
    b_min = float(beta.min())
    if b_min >= 1.0:
        span = n
    elif b_min <= 0.0:
        span = 1
    else:
        span = max(1, min(n, int(_MAX_DECADES * math.log(10.0) / -math.log(b_min)) + 1))
    if span * 8 < n:
        return _doubling_filter(beta, u, x0)
    powers = beta[:, None] ** np.arange(span, dtype=np.float64)[None, :]
    out = np.empty_like(u)
    prev = x0
    for s in range(0, n, span):
        m = min(span, n - s)
        p = powers[:, :m]
        blk = p * (np.cumsum(u[:, s : s + m] / p, axis=1) + (beta * prev)[:, None])
        out[:, s : s + m] = blk
        prev = blk[:, -1]
    return out


def _doubling_filter(beta: Array, u: Array, x0: Array) -> Array:
    """The same filter by doubling: after the step with lag d, x_t holds Σ_{k<2d} β^k u_{t-k}.
    Powers of β below 10^-30 are taken as 0 (what they carry is below rounding), which also keeps
    subnormal numbers, two orders of magnitude slower to compute with, out of the arrays."""
    n = u.shape[1]
    x = u.copy()
    b_d, d = np.where(beta < _NEGLIGIBLE, 0.0, beta), 1
    while d < n and float(b_d.max()) > 0.0:
        x[:, d:] += b_d[:, None] * x[:, :-d]
        sq = b_d * b_d  # ≥ 10^-60: never subnormal
        b_d, d = np.where(sq < _NEGLIGIBLE, 0.0, sq), 2 * d
    with np.errstate(divide="ignore"):
        expo = np.log(beta)[:, None] * np.arange(1, n + 1, dtype=np.float64)[None, :]
    head = np.where(expo > _LOG_NEGLIGIBLE, np.exp(np.maximum(expo, _LOG_NEGLIGIBLE)), 0.0)
    return x + head * x0[:, None]


def variances(y: Array, bc: float, theta: Array) -> tuple[Array, Array]:
    """Conditional variances σ²_t and squared residuals e²_t for a batch theta (K, 4) of
    (μ, ω, α, β)."""
    mu, omega, alpha, beta = (theta[:, i] for i in range(4))
    e2 = (y[None, :] - mu[:, None]) ** 2
    lagged = np.concatenate([np.full((theta.shape[0], 1), bc), e2[:, :-1]], axis=1)
    u = omega[:, None] + alpha[:, None] * lagged
    return linear_filter(beta, u, np.full(theta.shape[0], bc)), e2


def neg_loglik(y: Array, bc: float, theta: Array) -> Array:
    """Gaussian negative log-likelihood of each row of theta (K, 4)."""
    s2, e2 = variances(y, bc, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        nll = 0.5 * np.sum(_LOG_2PI + np.log(s2) + e2 / s2, axis=1)
    return np.where(np.isfinite(nll), nll, np.inf)


def _logit(p: Array) -> Array:
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


class _Objective:
    """Negative log-likelihood over a batch of unconstrained points z, counting evaluations.

    z ↔ (μ, ω, α, β): μ = ȳ + z₀·sd, unconditional variance ω / (1 − α − β) = var·e^z₁,
    persistence α + β = logistic(z₂), α's share of it = logistic(z₃). These coordinates are
    close to independent near an optimum, which both optimisers need. An optimum on an edge
    (β = 0 or α = 0) is at z₃ = ±∞, where Newton cannot go: the edges are fitted as models of
    their own, with z₃ fixed at `edge` = +∞ (β = 0, ARCH(1)) or −∞ (α = 0).
    """

    def __init__(self, y: Array, edge: float | None = None) -> None:
        self.y, self.edge = y, edge
        self.bc = backcast(y - y.mean())
        self.mean, self.var = float(y.mean()), float(y.var())
        self.sd = math.sqrt(self.var) if self.var > 0 else 1.0
        self.evaluations = 0

    def theta(self, z: Array) -> Array:
        z = np.atleast_2d(z)
        if self.edge is not None:
            z = np.column_stack([z, np.full(z.shape[0], self.edge)])
        pers = 1.0 / (1.0 + np.exp(-z[:, 2]))
        share = 1.0 / (1.0 + np.exp(-z[:, 3]))
        uncond = self.var * np.exp(z[:, 1])
        return np.stack(
            [self.mean + z[:, 0] * self.sd, uncond * (1 - pers), pers * share, pers * (1 - share)],
            axis=1,
        )

    def __call__(self, z: Array) -> Array:
        z = np.atleast_2d(z)
        self.evaluations += z.shape[0]
        return neg_loglik(self.y, self.bc, self.theta(z))

    def seed(self) -> Array:
        """Best point of a persistence × α-share grid at the sample mean and variance, as one
        batch."""
        pers, share = np.meshgrid(
            [0.2, 0.4, 0.6, 0.75, 0.85, 0.9, 0.95, 0.98, 0.995], [0.03, 0.08, 0.15, 0.3, 0.5]
        )
        cols = [np.zeros(pers.size), np.zeros(pers.size), _logit(pers.ravel())]
        z: Array = np.stack(cols if self.edge is not None else [*cols, _logit(share.ravel())], 1)
        best: Array = z[int(np.argmin(self(z)))]
        return best


def nelder_mead(
    f: _Objective, x0: Array, step: float, xtol: float, ftol: float, max_evals: int
) -> tuple[Array, bool]:
    """Minimise f from x0 with standard coefficients; stops when the simplex is both small
    (xtol) and flat (ftol). Returns the best point and whether it stopped in time."""
    d = x0.size
    simplex = np.vstack([x0, x0 + step * np.eye(d)])
    fs = f(simplex)
    while f.evaluations < max_evals:
        order = np.argsort(fs)
        simplex, fs = simplex[order], fs[order]
        if np.max(np.abs(simplex[1:] - simplex[0])) <= xtol and fs[-1] - fs[0] <= ftol:
            return simplex[0], True
        centroid = simplex[:-1].mean(axis=0)
        # reflection, expansion, outside and inside contraction as one batch (four points
        # cost little more than one); the choice below is the sequential algorithm's
        trial = centroid + np.array([[1.0], [2.0], [0.5], [-0.5]]) * (centroid - simplex[-1])
        fr, fe, foc, fic = (float(v) for v in f(trial))
        if fr < fs[0]:
            pick = (trial[1], fe) if fe < fr else (trial[0], fr)
        elif fr < fs[-2]:
            pick = (trial[0], fr)
        elif fr < fs[-1] and foc <= fr:
            pick = (trial[2], foc)
        elif fr >= fs[-1] and fic < fs[-1]:
            pick = (trial[3], fic)
        else:  # shrink towards the best point
            simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
            fs[1:] = f(simplex[1:])
            continue
        simplex[-1], fs[-1] = pick
    return simplex[int(np.argmin(fs))], False


def newton(
    f: _Objective, z: Array, h: float = 1e-4, xtol: float = 1e-7, max_steps: int = 15
) -> tuple[Array, bool]:
    """Newton steps on a finite-difference gradient (central) and Hessian, all points of one
    step evaluated as one batch, with a batched search along the step. False when the Hessian
    is not positive definite (not yet in a basin, or an optimum on an edge), the search finds
    no decrease, or it does not settle in `max_steps`."""
    d = z.size
    eye = h * np.eye(d)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    fractions = np.array([[1.0], [0.5], [0.25], [0.1], [0.03]])
    for _ in range(max_steps):
        pts = np.vstack([z, z + eye, z - eye, *(z + eye[i] + eye[j] for i, j in pairs)])
        fv = f(pts)
        if not np.all(np.isfinite(fv)):
            return z, False
        f0, fp, fm, fpp = fv[0], fv[1 : d + 1], fv[d + 1 : 2 * d + 1], fv[2 * d + 1 :]
        grad = (fp - fm) / (2 * h)
        hess = np.diag((fp - 2 * f0 + fm) / h**2)
        for k, (i, j) in enumerate(pairs):
            hess[i, j] = hess[j, i] = (fpp[k] - fp[i] - fp[j] + f0) / h**2
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            return z, False
        step = -np.linalg.solve(hess, grad)
        # done when the step is tiny, or all it could gain (the Newton decrement) is rounding
        if np.max(np.abs(step)) <= xtol or float(-grad @ step) <= 1e-11:
            return z, True
        # from a rough start a full step can overshoot far: at most 1 in any coordinate
        trial = z + fractions * (step / max(1.0, float(np.max(np.abs(step)))))
        ft = f(trial)
        best = int(np.argmin(ft))
        if not ft[best] <= f0:
            return z, False
        z = trial[best]
    return z, False


def _local(f: _Objective) -> tuple[Array, bool]:
    """Newton from f's grid seed; where it cannot go on (the Hessian is not positive definite
    there), a coarse Nelder–Mead into the basin and Newton again, then once more from closer.
    Each simplex gets a small budget: one that does not settle in it is crawling towards an
    edge, where Newton will not finish either. Returns the point and whether Newton finished."""
    z, done = newton(f, f.seed())
    if done:
        return z, True
    for step, xtol, ftol in ((0.2, 0.1, 0.1), (0.05, 1e-3, 1e-5)):
        z, settled = nelder_mead(f, z, step, xtol, ftol, f.evaluations + 250)
        z, done = newton(f, z)
        if done or not settled:
            return z, done
    return z, False


def fit_garch11(y: Array, max_evals: int = 6000) -> GarchFit:
    """Maximum-likelihood GARCH(1,1) with constant mean on y (arch's scale: percent returns).

    The likelihood can peak inside and, higher, on an edge: β = 0 (short samples of a persistent
    process show this) or α = 0 (a variance path that ignores the returns and drifts from the
    backcast; i.i.d. returns, or a variance trend). All three are fitted and the most likely
    wins, so the result is never less likely than arch's, which climbs to whichever peak is
    nearest its start. If the winner is a point Newton did not finish (an optimum on a further
    edge, e.g. α + β → 1), a tight Nelder–Mead finishes it.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    if not (y.size >= 2 and np.all(np.isfinite(y)) and y.max() > y.min()):
        raise ValueError("need at least two finite, not all equal observations")
    runs: list[tuple[float, _Objective, Array, bool]] = []
    for edge in (None, math.inf, -math.inf):
        f = _Objective(y, edge)
        z, polished = _local(f)
        runs.append((float(f(z)[0]), f, z, polished))
    # a run crawling towards an edge ties, within rounding, with the fit of that edge itself:
    # prefer the finished one
    _, f, z, ok = min(runs, key=lambda run: run[0] - (1e-7 if run[3] else 0.0))
    if not ok:
        z, ok = nelder_mead(f, z, 0.01, 1e-7, 1e-9, f.evaluations + max_evals)
    theta = f.theta(z)
    mu, omega, alpha, beta = (float(v) for v in theta[0])
    s2, e2 = variances(y, f.bc, theta)
    forecast = omega + alpha * float(e2[0, -1]) + beta * float(s2[0, -1])
    evaluations = sum(run[1].evaluations for run in runs)
    return GarchFit(mu, omega, alpha, beta, -float(f(z)[0]), forecast, ok, evaluations)
