"""The package as a user gets it: a wheel built from the sources, installed (not editable) into a
fresh virtual environment, `inavd run` started in an empty folder with no config at all — the
embedded default config, universe and sample session come from inside the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tests.kit.paths import ROOT


def _clean_copy(dst: Path) -> None:
    """The sources a wheel is built from, without build leftovers of the working tree."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dst / name)
    shutil.copytree(ROOT / "src", dst / "src", ignore=skip)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_from_an_empty_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INAVD_", "PYTHON"))}
    src = tmp_path / "src-copy"
    src.mkdir()
    _clean_copy(src)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "wheel", "--no-deps", "-w", str(dist), str(src)], src, env, 600)
    wheel = next(dist.glob("inavd-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env, 120)
    py = venv / "bin" / "python"
    _run([*pip, "--python", str(py), "install", "--no-deps", str(wheel)], tmp_path, env, 300)
    # the dependencies come from this environment's site-packages, appended after the venv's
    # own (a plain path line: this environment's editable install of inavd is not picked up)
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     tmp_path, env, 60).strip())
    (site / "deps-from-test-env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    where = _run([str(py), "-c", "import inavd; print(inavd.__file__)"], tmp_path, env, 60)
    assert Path(where.strip()).is_relative_to(venv), where  # the wheel, not the sources

    empty = tmp_path / "empty"
    empty.mkdir()
    out = _run([str(venv / "bin" / "inavd"), "run", "--quiet", "--summary-json", "s.json"],
               empty, env, 900)
    summary = json.loads((empty / "s.json").read_text())
    assert summary["session"] == "2019-12-19" and summary["quotes"] > 1_000_000
    assert summary["orders"] > 0 and summary["fills"] > 0
    assert "quotes" in out
    assert sorted(p.name for p in empty.iterdir()) == ["s.json", "var"]  # wrote only its own
