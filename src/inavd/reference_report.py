"""What the start-of-day reference was built from, for /status, the summary and the journal."""

from __future__ import annotations

from typing import Any

from inavd.domain.instruments import Universe
from inavd.inav.engine import Reference


def reference_document(ref: Reference, universe: Universe, actions_source: str) -> dict[str, Any]:
    """Corporate-action adjustments applied, and where each fund's prior NAV came from: the
    issuer's official NAV, or the prior close (flagged: the NAV may differ by a few bp)."""
    nav_source = {
        f.symbol: "official" if f.symbol in ref.official_nav else "prior_close"
        for f in universe.funds
    }
    return {
        "corporate_actions": actions_source,
        "adjustments": [a.as_dict() for a in ref.adjustments],
        "nav_source": nav_source,
        "flagged_prior_close_as_nav": sorted(s for s, v in nav_source.items() if v != "official"),
    }
