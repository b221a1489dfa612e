"""Today's cash dividends and distributions from Alpaca's corporate-actions data (alpaca-py).

Kept thin on purpose: one REST request at start-up for the session's ex-date, parsed by
`cash_from_payload`, which is tested on the documented payload shape. The local wire server used
by the integration tests does not serve `/v1/corporate-actions`, so the request itself is not
exercised end to end; a failed request is logged and the session runs unadjusted (the /status
`reference.corporate_actions` field then says `unavailable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import structlog

from inavd.corporate_actions import CorporateActions
from inavd.live_config import AlpacaSettings, Credentials

log = structlog.get_logger(__name__)


def cash_from_payload(payload: Any, day: date) -> dict[tuple[str, date], float]:
    """`{"cash_dividends": [{"symbol", "rate", "ex_date", ...}, ...], ...}` → amounts on `day`."""
    out: dict[tuple[str, date], float] = {}
    rows = (payload or {}).get("cash_dividends") or []
    for row in rows:
        try:
            sym, ex, rate = str(row["symbol"]), date.fromisoformat(str(row["ex_date"])), row["rate"]
            amount = float(rate)
        except (KeyError, TypeError, ValueError):
            log.warning("corporate action skipped: unreadable", row=str(row)[:200])
            continue
        if ex == day and amount > 0:
            out[(sym, ex)] = out.get((sym, ex), 0.0) + amount
    return out


def alpaca_actions(
    s: AlpacaSettings, creds: Credentials, symbols: Iterable[str], day: date
) -> CorporateActions:
    from alpaca.data.enums import CorporateActionsType
    from alpaca.data.historical.corporate_actions import CorporateActionsClient
    from alpaca.data.requests import CorporateActionsRequest

    client = CorporateActionsClient(
        creds.key_id, creds.secret_key, raw_data=True, url_override=s.data_rest_url or None
    )
    req = CorporateActionsRequest(
        symbols=sorted(symbols), types=[CorporateActionsType.CASH_DIVIDEND], start=day, end=day
    )
    try:
        payload = client.get_corporate_actions(req)
    except Exception as exc:  # network or API error: run unadjusted and say so
        log.error("corporate actions unavailable; prior closes are not adjusted", error=str(exc))
        return CorporateActions({}, "alpaca (unavailable)")
    return CorporateActions(cash_from_payload(payload, day), "alpaca")
