"""The command line makes Arrow allocate from the system allocator (its default pool, mimalloc,
kept about 60 MB of freed reader and writer buffers resident at 10,000 funds), unless the
operator chose a pool."""

from __future__ import annotations

import os
import subprocess
import sys

from inavd.arrow_memory import ENV, POOL

BACKEND = "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _backend(code: str, pool: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if pool is not None:
        env[ENV] = pool
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_the_command_line_sets_the_pool_before_pyarrow_is_imported() -> None:
    after_cli = _backend(f"from inavd.cli import main\nmain(['version'])\n{BACKEND}", None)
    assert after_cli == POOL == "system"


def test_an_operator_choice_of_pool_is_kept() -> None:
    bare = _backend(BACKEND, None)  # pyarrow's own default on this build
    chosen = _backend(f"from inavd.cli import main\nmain(['version'])\n{BACKEND}", bare)
    assert chosen == bare
