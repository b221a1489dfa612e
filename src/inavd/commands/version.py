from __future__ import annotations

import argparse
import platform
from typing import Any

from inavd import __version__, native


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("version", help="print the version")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print(f"inavd {__version__} (Python {platform.python_version()})")
    how, why = native.state()
    print(f"decision path: {how} ({why})")
    return 0
