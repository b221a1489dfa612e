"""Error kinds grouped by what the operator (or the run loop) must do about them."""

from __future__ import annotations


class InavdError(Exception):
    """Base class: every error the daemon raises on purpose."""


class ConfigError(InavdError):
    """A user mistake in configuration or input: printed as one line, exit code 2."""


class DataError(InavdError):
    """Bad input data (a file that cannot be read, a missing column)."""


class JournalError(InavdError):
    """The journal cannot be opened or is damaged: stop, never reset silently."""


class BrokerError(InavdError):
    """Base for broker failures; subclasses say what to do next."""


class OrderRejected(BrokerError):
    """The broker refused the order; do not retry."""


class RetryableBrokerError(BrokerError):
    """A transient failure (5xx, dropped connection before send); retry with backoff."""


class RateLimited(RetryableBrokerError):
    """HTTP 429 or equivalent; back off before the next call."""


class UnknownOutcome(BrokerError):
    """The request may or may not have reached the broker: resolve by lookup, never resend."""


class FatalBrokerError(BrokerError):
    """Wrong credentials or permissions: stop trading and tell the operator."""
