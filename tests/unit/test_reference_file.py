"""The operator's reference file (`reference.source = "file"`): read without pandas, a value that
is empty or not a number dropped rather than guessed, a file without the needed columns refused."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from inavd.errors import DataError
from inavd.live_config import ReferenceSettings
from inavd.reference import load_reference, read_reference_file


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "ref.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_closes_and_navs_are_read_and_bad_values_become_nan(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "\ufeffsymbol,prior_close,prior_nav\nSPY,320.5,\nSH, 25.1 ,25.09\nSDS,abc,18\n\n,9,9\n",
    )
    closes, navs = read_reference_file(path)
    assert set(closes) == {"SPY", "SH", "SDS"}  # the row without a symbol is skipped
    assert closes["SPY"] == 320.5 and closes["SH"] == 25.1 and math.isnan(closes["SDS"])
    assert math.isnan(navs["SPY"]) and navs["SH"] == 25.09 and navs["SDS"] == 18.0


def test_prior_nav_is_optional_and_invalid_closes_are_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,prior_close\nSPY,320.5\nSH,-1\nSDS,\n")
    assert read_reference_file(path)[1] == {}
    ref = load_reference(ReferenceSettings(source="file", path=str(path)), date(2019, 12, 19),
                         ("SPY", "SH", "SDS"))  # fmt: skip
    assert ref.prior_close == {"SPY": 320.5} and ref.prior_nav == {}


@pytest.mark.parametrize("text", ["", "symbol,close\nSPY,1\n", "ticker,prior_close\nSPY,1\n"])
def test_a_file_without_the_columns_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match="needs columns symbol, prior_close"):
        read_reference_file(_write(tmp_path, text))


def test_reading_it_imports_no_pandas(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,prior_close\nSPY,320.5\n")
    code = (
        "import sys\nfrom pathlib import Path\nfrom inavd.reference import read_reference_file\n"
        f"assert read_reference_file(Path({str(path)!r}))[0] == {{'SPY': 320.5}}\n"
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
