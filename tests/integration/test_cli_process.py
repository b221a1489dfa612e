"""The `inavd` process itself: what it lets into its config validation, and how a run ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = '''
import os
from pathlib import Path

Path(os.environ["MARKER"]).write_text("loaded")


class _Plugin:
    def new_schema_validator(self, *args, **kwargs):
        return None, None, None


plugin = _Plugin()
'''


def _with_plugin(tmp_path: Path) -> dict[str, str]:
    """An installed package that registers a pydantic plugin through its entry points."""
    site = tmp_path / "site"
    info = site / "marker_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: marker-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nmarker = marker_plugin:plugin\n")
    (site / "marker_plugin.py").write_text(PLUGIN)
    env = dict(os.environ, PYTHONPATH=str(site), MARKER=str(tmp_path / "marker"))
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    return env


def _check_config(env: dict[str, str], cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "inavd", "check-config"],
        cwd=cwd, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def test_pydantic_plugins_of_other_packages_never_see_the_config(tmp_path: Path) -> None:
    env = _with_plugin(tmp_path)
    probe = "from pydantic.plugin._loader import get_plugins; print(len(list(get_plugins())))"
    seen = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert seen.stdout.strip() == "1" and (tmp_path / "marker").exists()  # the plugin is real
    (tmp_path / "marker").unlink()
    _check_config(env, tmp_path)
    assert not (tmp_path / "marker").exists()
    # the operator opts back in by setting pydantic's own variable, even empty
    _check_config({**env, "PYDANTIC_DISABLE_PLUGINS": ""}, tmp_path)
    assert (tmp_path / "marker").read_text() == "loaded"


def _leaving(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import atexit, sys, threading, time
        from pathlib import Path
        from inavd.cli import _leave

        out = Path({str(tmp_path)!r})
        atexit.register(lambda: (out / "atexit").write_text("ran"))
        sys.stdout.write("unflushed ")
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )


def test_a_finished_run_leaves_at_once_with_its_streams_and_exit_handlers(
    tmp_path: Path,
) -> None:
    done = _leaving(tmp_path, "_leave(3)\nprint('not reached')\n")
    assert done.returncode == 3
    assert done.stdout == "unflushed "
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_run_with_another_thread_alive_exits_the_normal_way(tmp_path: Path) -> None:
    """The normal exit waits for a non-daemon thread; leaving at once would cut it off."""
    done = _leaving(
        tmp_path,
        """
        def late():
            time.sleep(0.3)
            (out / "thread").write_text("finished")

        threading.Thread(target=late).start()
        _leave(3)
        print("returned")
        """,
    )
    assert done.returncode == 0
    assert done.stdout == "unflushed returned\n"
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_inavd_run_leaves_its_journal_and_history_whole(tmp_path: Path) -> None:
    """The console entry (`entry` → `_leave`): a replay's journal is closed (no WAL left) and
    its iNAV history written before the process is gone."""
    done = subprocess.run(
        [sys.executable, "-m", "inavd", "run", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "journal growth" in done.stdout.splitlines()[-1]
    var = tmp_path / "var"
    assert (var / "journal.sqlite").stat().st_size > 0
    assert not (var / "journal.sqlite-wal").exists()
    assert list(var.glob("journal.snapshots/*/seg-*.parquet"))
