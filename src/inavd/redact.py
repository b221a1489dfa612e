"""Credentials never leave the process: `scheme://user:password@host` is shown as
`scheme://user:***@host` in printed config, logs and error messages."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

# userinfo with a password inside any URL: keep the user name (useful when debugging), drop the rest
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@\s/]*@")


def redact(text: str) -> str:
    if "@" not in text:  # the common case costs one scan
        return text
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: redact every string value of a log line."""
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = redact(value)
    return event
