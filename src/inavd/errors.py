"""Error kinds grouped by what the operator (or the run loop) must do about them."""

from __future__ import annotations


class InavdError(Exception):
    """Base class: every error the daemon raises on purpose."""

    exit_code = 2  # the service manager does not restart into it (RestartPreventExitStatus)


class ConfigError(InavdError):
    """A user mistake in configuration or input: printed as one line, exit code 2."""


class DataError(InavdError):
    """Bad input data (a file that cannot be read, a missing column)."""


class JournalError(InavdError):
    """The journal cannot be opened or is damaged: stop, never reset silently."""


class JournalWriteFailed(JournalError):
    """A journal write failed (disk full, I/O error): trading halts and the process exits with
    code 3, which the service manager must not restart into (a restart would fail the same way)."""

    exit_code = 3


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
