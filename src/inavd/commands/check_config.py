from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from inavd.settings import load_config, masked_dump


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check-config", help="validate a config file and print it resolved, secrets masked"
    )
    p.add_argument("file", type=Path, nargs="?", default=None)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)
    print(json.dumps(masked_dump(cfg), indent=2, default=str))
    return 0
