"""`inavd sample --bars DIR --day D`: a user's folder of 1-minute bars in any accepted layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from inavd.cli import main
from inavd.feeds.sample import sample_dir

DAY = "2019-12-19"


def _bars(sym: str) -> pd.DataFrame:
    raw = pd.read_csv(sample_dir() / "bars" / f"{sym}.csv")
    raw["Datetime"] = pd.to_datetime(raw["Datetime"], utc=True)
    return raw.drop_duplicates("Datetime")


def _folder(tmp: Path) -> Path:
    d = tmp / "bars"
    d.mkdir()
    # SPY as Polygon aggregates in UTC, lower-case, shuffled
    spy = _bars("SPY")
    polygon = {"timestamp": spy["Datetime"].dt.strftime("%Y-%m-%d %H:%M:%S+00:00")}
    polygon |= {c.lower(): spy[c] for c in ("Open", "High", "Low", "Close", "Volume")}
    pd.DataFrame(polygon).sample(frac=1.0, random_state=1).to_csv(d / "SPY.csv", index=False)
    # SH with naive New York times (read with the default --tz)
    sh = _bars("SH")
    naive = sh["Datetime"].dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d %H:%M:%S")
    sh.assign(Datetime=naive).to_csv(d / "SH.csv", index=False)
    # SPXU in the yfinance layout with its ET offset, unchanged
    (d / "SPXU.csv").write_text((sample_dir() / "bars" / "SPXU.csv").read_text())
    return d


def test_user_bars_in_three_layouts_make_a_session(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    assert main(["sample", "--bars", str(_folder(tmp_path)), "--day", DAY, "--out", str(out)]) == 0
    q = pd.read_parquet(out)
    assert set(q["symbol"].astype(str)) == {"SPY", "SH", "SPXU"}
    ts = pd.to_datetime(q["ts"], unit="ns", utc=True).dt.tz_convert("America/New_York")
    assert ts.iloc[0].strftime("%H:%M") == "09:30" and ts.iloc[-1].strftime("%H:%M") == "15:59"
    spy = q[(q["symbol"] == "SPY") & (q["bid"] > 0)]
    real = _bars("SPY")
    real = real[real["Datetime"].dt.tz_convert("America/New_York").dt.date.astype(str) == DAY]
    mid = (spy["bid"] + spy["ask"]) / 2
    assert mid.min() >= real["Low"].min() - 0.01 and mid.max() <= real["High"].max() + 0.01


def test_unreadable_time_is_one_line_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _folder(tmp_path)
    text = (d / "SPXU.csv").read_text().splitlines()
    text[3] = "yesterday" + text[3][text[3].index(",") :]
    (d / "SPXU.csv").write_text("\n".join(text) + "\n")
    assert main(["sample", "--bars", str(d), "--day", DAY, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "SPXU.csv: line 4: unreadable time 'yesterday'" in err
