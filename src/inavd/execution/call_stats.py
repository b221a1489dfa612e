"""Broker call statistics for the metrics: latency per operation (histogram buckets) and errors
by kind. Plain integer counts updated per call (a broker call takes milliseconds; this costs well
under a microsecond) and turned into Prometheus families only at scrape time."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

import msgspec

from inavd.errors import (
    FatalBrokerError,
    OrderRejected,
    RateLimited,
    RetryableBrokerError,
    UnknownOutcome,
)

# seconds: an in-process venue answers in µs, a REST broker in tens to hundreds of ms
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def error_kind(exc: BaseException) -> str:
    """The label of `inavd_broker_errors_total`: what the failure means, not its class name."""
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, RetryableBrokerError):
        return "retryable"
    if isinstance(exc, UnknownOutcome | TimeoutError):
        return "timeout"
    if isinstance(exc, OrderRejected):
        return "rejected"
    if isinstance(exc, FatalBrokerError):
        return "fatal"
    return "other"


class Histogram(msgspec.Struct):
    counts: list[int] = msgspec.field(default_factory=lambda: [0] * (len(BUCKETS) + 1))  # +Inf last
    total: float = 0.0

    def cumulative(self) -> list[tuple[str, float]]:
        out, running = [], 0
        for bound, n in zip((*BUCKETS, float("inf")), self.counts, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return out


class CallStats(msgspec.Struct):
    latency: dict[str, Histogram] = msgspec.field(default_factory=dict)  # by operation
    errors: Counter[str] = msgspec.field(default_factory=Counter)  # by kind

    def observe(self, op: str, seconds: float, error: BaseException | None = None) -> None:
        """Once per broker call: the histogram is counted here, without a call of its own."""
        h = self.latency.get(op)
        if h is None:
            h = self.latency[op] = Histogram()
        h.counts[bisect_left(BUCKETS, seconds)] += 1
        h.total += seconds
        if error is not None:
            self.errors[error_kind(error)] += 1
