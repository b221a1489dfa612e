"""The preflight: every check in order, each bounded in time; the Alpaca checks only when the
config uses Alpaca (feed, broker or reference)."""

from __future__ import annotations

from inavd.doctor import broker_checks, local_checks, stream_check
from inavd.doctor.report import Check, skip
from inavd.settings import Config
from inavd.universe import build_universe

TIMEOUT_S = 10.0


def uses_alpaca(cfg: Config) -> bool:
    s = cfg.settings
    return "alpaca" in (s.feed.kind, s.broker.kind, s.reference.source)


async def run_checks(cfg: Config, timeout_s: float = TIMEOUT_S) -> list[Check]:
    s = cfg.settings
    checks: list[Check] = []
    if uses_alpaca(cfg):
        checks += await _alpaca(cfg, timeout_s)
    else:
        checks.append(skip("alpaca", "the config uses no Alpaca service"))
    checks.append(await local_checks.mqtt(s.mqtt, timeout_s))
    checks.append(local_checks.ops_port(s.ops, live=s.feed.kind == "alpaca"))
    return checks


async def _alpaca(cfg: Config, timeout_s: float) -> list[Check]:
    s = cfg.settings
    key_check, creds = local_checks.keys()
    if creds is None:
        return [key_check]
    checks = [key_check]
    client = broker_checks.client_for(creds, s.alpaca, timeout_s)
    account, keys_refused = await broker_checks.account(client)
    checks += account
    if keys_refused:
        return checks  # every other call would be refused the same way
    checks.append(await broker_checks.clock(client))
    if s.feed.kind == "alpaca":
        symbols = build_universe(cfg.universe).symbols
        checks.append(await stream_check.data_feed(creds, s.alpaca, symbols, timeout_s))
    if s.broker.kind == "alpaca":
        checks.append(await broker_checks.shorts(client, s.risk.short_symbols))
    return checks
