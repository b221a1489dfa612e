"""Map alpaca-py's `APIError` (and transport errors) onto the daemon's error kinds.

Decisions use the HTTP status and Alpaca's numeric JSON `code`, never message text. `APIError.code`
parses the body lazily and itself raises when the body is not JSON or has no code: guarded here.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from alpaca.common.exceptions import APIError

from inavd.errors import (
    BrokerError,
    FatalBrokerError,
    OrderRejected,
    RateLimited,
    RetryableBrokerError,
    UnknownOutcome,
)

DUPLICATE_CLIENT_ORDER_ID = 40010001
ORDER_NOT_FOUND = 40410000


class OrderNotFound(OrderRejected):
    """404: the broker does not know the order."""


class DuplicateClientOrderId(OrderRejected):
    """422 / 40010001: an order with this client order id exists; look it up instead."""


def api_code(exc: APIError) -> int | None:
    try:
        code: Any = exc.code
    except Exception:  # body not JSON, or JSON without "code"
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


def api_message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except Exception:
        return str(exc)[:200]


def retry_after_s(exc: BaseException) -> float | None:
    """How long a 429 asks us to wait: `Retry-After`, else Alpaca's `X-RateLimit-Reset` (epoch s).
    alpaca-py drops these headers from its own retry; the response is still on the error."""
    if not isinstance(exc, APIError):
        return None
    headers = getattr(exc.response, "headers", None) or {}
    try:
        if "Retry-After" in headers:
            return max(0.0, float(headers["Retry-After"]))
        if "X-RateLimit-Reset" in headers:
            return max(0.0, float(headers["X-RateLimit-Reset"]) - time.time())
    except (TypeError, ValueError):
        return None
    return None


def map_error(exc: Exception, *, submitting: bool = False) -> BrokerError:
    """The error kind for a failed call. `submitting`: the request may have created an order."""
    if isinstance(exc, APIError):
        return _map_api_error(exc, submitting)
    if isinstance(exc, requests.ConnectTimeout):  # never reached the server
        return RetryableBrokerError(f"alpaca: connect timeout: {type(exc).__name__}")
    if isinstance(exc, requests.RequestException):
        kind = UnknownOutcome if submitting else RetryableBrokerError
        return kind(f"alpaca: transport error: {type(exc).__name__}")
    raise exc


def _map_api_error(exc: APIError, submitting: bool) -> BrokerError:
    status = exc.status_code or 0
    code = api_code(exc)
    text = f"alpaca {status}" + (f"/{code}" if code else "") + f": {api_message(exc)}"
    if status == 429:
        return RateLimited(text)
    if status >= 500:
        # a 5xx on a submit may come after the order was accepted: resolve by lookup
        return UnknownOutcome(text) if submitting else RetryableBrokerError(text)
    if status == 401 or (status == 403 and code is None):
        return FatalBrokerError(text)  # credentials or permissions: stop, tell the operator
    if status == 404:
        return OrderNotFound(text)
    if status == 422 and code == DUPLICATE_CLIENT_ORDER_ID:
        return DuplicateClientOrderId(text)
    if status in (400, 403, 422):
        return OrderRejected(text)  # e.g. 40310000 insufficient qty / buying power
    return RetryableBrokerError(text)
