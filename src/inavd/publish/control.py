"""Operator commands: verification of HMAC-signed MQTT commands and their effect on the daemon.

A command is a JSON object `{"command", "ts", "nonce", "sig"}` where
`sig = hex(HMAC-SHA256(secret, f"{topic}\\n{command}\\n{ts}\\n{nonce}"))` and `ts` is Unix seconds.
Binding the topic stops a command for one instance being replayed on another; the timestamp window
and the nonce memory stop a captured command being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from inavd.domain.events import TradingState

if TYPE_CHECKING:
    from inavd.ports import DaemonView

COMMANDS = frozenset({"pause", "resume", "reduce-only", "halt", "flatten"})
STATE_FOR = {
    "pause": TradingState.HALTED,
    "halt": TradingState.HALTED,
    "resume": TradingState.ACTIVE,
    "reduce-only": TradingState.REDUCING,
    "flatten": TradingState.REDUCING,
}


@dataclass(frozen=True, slots=True)
class Command:
    command: str
    ts: float
    nonce: str


class Rejected(Exception):
    """A command that is refused; `reason` is the metric label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def signature(secret: str, topic: str, command: str, ts: float | str, nonce: str) -> str:
    msg = f"{topic}\n{command}\n{ts}\n{nonce}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def sign(secret: str, topic: str, command: str, nonce: str, ts: float | None = None) -> bytes:
    """A signed command payload (used by tests and as the reference for client code)."""
    stamp = round(time.time() if ts is None else ts, 3)
    sig = signature(secret, topic, command, stamp, nonce)
    return orjson.dumps({"command": command, "ts": stamp, "nonce": nonce, "sig": sig})


class NonceStore(Protocol):
    """Durable memory of accepted nonces (the journal): replays stay refused after a restart."""

    def seen(self, nonce: str) -> bool: ...

    def remember(self, nonce: str, ts: float) -> bool: ...


class Verifier:
    def __init__(
        self,
        secret: str,
        topic: str,
        max_skew_s: float,
        memory: int = 4096,
        store: NonceStore | None = None,
    ) -> None:
        self.secret = secret
        self.topic = topic
        self.max_skew_s = max_skew_s
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._memory = memory
        self.store = store

    def verify(self, payload: bytes, now: float | None = None) -> Command:
        body = _parse(payload)
        sig = body.get("sig")
        if not sig:
            raise Rejected("unsigned")
        cmd, ts, nonce = body.get("command"), body.get("ts"), body.get("nonce")
        if not isinstance(cmd, str) or not isinstance(nonce, str) or not nonce:
            raise Rejected("malformed", "command and nonce must be strings")
        if not isinstance(ts, int | float) or isinstance(ts, bool) or not isinstance(sig, str):
            raise Rejected("malformed", "ts must be a number and sig a string")
        want = signature(self.secret, self.topic, cmd, ts, nonce)
        if not self.secret or not hmac.compare_digest(want, sig):
            raise Rejected("bad_signature")
        if cmd not in COMMANDS:
            raise Rejected("unknown_command", cmd)
        now = time.time() if now is None else now
        if abs(now - float(ts)) > self.max_skew_s:
            raise Rejected("stale", f"ts {ts} is {now - float(ts):+.0f} s from now")
        if nonce in self._seen:
            raise Rejected("replayed", nonce)
        store = self.store
        if store is not None and (store.seen(nonce) or not store.remember(nonce, float(ts))):
            raise Rejected("replayed", f"{nonce} (accepted before a restart)")
        self._seen[nonce] = None
        if len(self._seen) > self._memory:
            self._seen.popitem(last=False)
        return Command(cmd, float(ts), nonce)


def _parse(payload: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise Rejected("malformed", "not JSON") from None
    if not isinstance(body, dict):
        raise Rejected("malformed", "not a JSON object")
    return body


async def apply_command(daemon: DaemonView, command: str, source: str) -> str:
    """Carry out an accepted command through the operator port (cancels and flattening go
    through the router and the broker gateway: rate-limited, journaled); returns the state."""
    if command not in STATE_FOR:
        raise Rejected("unknown_command", command)
    operator, reason = daemon.operator, f"operator {command} ({source})"
    if command == "flatten":
        await operator.flatten(reason)  # reduce-only, then every position to zero
    else:
        operator.set_state(STATE_FOR[command], reason)
        if command == "halt":
            await operator.cancel_all(reason)
    return daemon.trading_state.state.value
