"""The compiled decision path (`inavd.native`): which build runs, and that both decide alike."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inavd import native

ROOT = Path(__file__).resolve().parents[2]
SO = importlib.machinery.EXTENSION_SUFFIXES[0]


def _tree(tmp_path: Path, compiled: bool = True) -> Path:
    """A package root with the group's sources, their recorded hashes and (if `compiled`) an
    extension beside the first module, as a build leaves them."""
    for m in native.MODULES:
        path = Path(native.source_path(m, tmp_path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {m}\n")
    if compiled:
        first = Path(native.source_path(native.MODULES[0], tmp_path))
        first.with_name(first.stem + SO).write_bytes(b"")
    hashes = native.source_hashes(tmp_path)
    (tmp_path / "inavd" / native.SOURCES).write_text(native.sources_record(hashes))
    return tmp_path


def test_a_compiled_group_runs_while_every_source_is_the_one_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    root = _tree(tmp_path)
    assert native.decide(root) == ("compiled", "mypyc")
    edited = Path(native.source_path("inavd.sizing.kelly", root))
    edited.write_text(edited.read_text() + "# edited\n")
    with pytest.warns(RuntimeWarning, match=r"inavd\.sizing\.kelly changed"):
        how, why = native.decide(root)
    assert how == "interpreted" and "inavd.sizing.kelly" in why  # the whole group, not one module


def test_no_extension_a_lost_record_or_the_switch_run_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    assert native.decide(_tree(tmp_path / "plain", compiled=False))[0] == "interpreted"
    root = _tree(tmp_path / "lost")
    (root / "inavd" / native.SOURCES).unlink()
    how, why = native.decide(root)
    assert how == "interpreted" and "cannot be checked" in why
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.decide(_tree(tmp_path / "switch")) == ("interpreted", f"{native.PURE_ENV} is set")


def _run(*args: str, pure: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=240, check=True)  # fmt: skip
    return out.stdout


def test_the_loaded_modules_are_the_build_the_state_names() -> None:
    """Compiled: every module of the group is an extension; with the switch, every one is the
    source (the finder puts the sources first)."""
    code = ("import importlib, inavd.native as n; print(n.state()[0]); "
            "print(*(importlib.import_module(m).__file__ for m in n.MODULES))")  # fmt: skip
    for pure in (False, True):
        how, files = _run("-c", code, pure=pure).splitlines()
        suffixes = {Path(f).suffix for f in files.split()}
        if how == "compiled":
            assert suffixes == {".so"} and not pure
        else:
            assert suffixes == {".py"}


def test_compiled_and_interpreted_decide_alike() -> None:
    """The intents and gate answers of 1,000 moving steps (entries, fills, exits and hedges) have
    the same digest whichever build decides them."""
    compiled = _run("-m", "bench.bench_decision", "--digest", pure=False)
    if "decision path: compiled" not in compiled:
        pytest.skip("this environment runs the decision path interpreted: nothing to compare")
    interpreted = _run("-m", "bench.bench_decision", "--digest", pure=True)
    assert "decision path: interpreted" in interpreted
    assert compiled.split()[-1] == interpreted.split()[-1]
