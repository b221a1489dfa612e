"""Analysis commands: volatility decay (`decay`), tracking (`track`) and session reports (`report`).

Submodules import numpy/pandas eagerly but matplotlib only when a plot is drawn, through
`pyplot()`, which pins the non-interactive Agg backend first (the daemon has no display).
"""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot with the Agg backend selected before pyplot is first imported."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
