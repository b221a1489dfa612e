from __future__ import annotations

import argparse
import platform
from typing import Any

from inavd import __version__


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("version", help="print the version")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print(f"inavd {__version__} (Python {platform.python_version()})")
    return 0
