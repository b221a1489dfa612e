"""Analysis commands: volatility decay (`decay`), tracking (`track`) and session reports (`report`).

Submodules import numpy/pandas eagerly but matplotlib only when a plot is drawn, through
`pyplot()`, which pins the non-interactive Agg backend first (the daemon has no display).
"""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot with the Agg backend selected before pyplot is first imported.

    matplotlib is the optional `report` extra: without it, one line says how to install it."""
    try:
        import matplotlib
    except ImportError:
        from inavd.errors import ConfigError

        raise ConfigError(
            "the session report needs matplotlib: pip install 'inavd[report]'"
        ) from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def date_axis(ax: Any) -> None:
    """Concise date ticks (no overlapping labels on short or long spans) and a light grid."""
    import matplotlib.dates as mdates

    # interval_multiples=False: regular steps, no crowded ticks at month ends (Feb 29, Mar 1)
    locator = mdates.AutoDateLocator(interval_multiples=False)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    formatter.formats[2] = formatter.zero_formats[2] = "%b %d"  # day ticks name their month
    formatter.offset_formats[2] = "%Y"
    ax.xaxis.set_major_formatter(formatter)
    ax.grid(alpha=0.3)
