"""`inavd report`: a journal built with the daemon's own Journal class renders to HTML + PNGs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from inavd.analysis.report import compute_pnl, load_session, write_report
from inavd.cli import main
from inavd.errors import DataError, JournalError
from inavd.execution.journal import Journal

NY = ZoneInfo("America/New_York")
NS = 1_000_000_000
STEP_NS = 15 * NS
SNAPSHOTS = 240  # one hour at the 15 s cadence
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _ns(hour: int, minute: int, second: int = 0) -> int:
    return int(datetime(2024, 3, 1, hour, minute, second, tzinfo=NY).timestamp()) * NS


OPEN_NS = _ns(9, 30)


def _snapshot_rows(run_id: str) -> tuple[list[tuple[object, ...]], dict[str, list[float]]]:
    """Two funds: SH around 40 USD, SDS around 20 USD, with a noisy premium and spread."""
    rng = np.random.default_rng(7)
    rows: list[tuple[object, ...]] = []
    mids: dict[str, list[float]] = {"SH": [], "SDS": []}
    for symbol, base in (("SH", 40.0), ("SDS", 20.0)):
        inav = base * np.cumprod(1.0 + rng.normal(0.0, 2e-4, SNAPSHOTS))
        premium = rng.normal(0.0, 6.0, SNAPSHOTS)
        mid = inav * (1.0 + premium / 1e4)
        spread = 4.0 + rng.gamma(2.0, 1.0, SNAPSHOTS)
        spread[150] = 40.0  # a wide-market moment, denied below
        for i in range(SNAPSHOTS):
            rows.append((run_id, i, OPEN_NS + i * STEP_NS, symbol, float(inav[i]), float(mid[i]),
                         float(premium[i]), -0.001, 1e6, float(spread[i])))
        mids[symbol] = [float(x) for x in mid]
    return rows, mids


COLUMNS = {
    "runs": "run_id started_ns ended_ns config_path feed broker version summary_json",
    "inav_snapshots": "run_id seq ts_ns symbol inav mid premium_bp bench_move flow_usd spread_bp",
    "orders": "client_order_id run_id ts_ns symbol side qty order_type time_in_force limit_price"
    " strategy reason status filled_qty avg_fill_price updated_ns",
    "fills": "execution_id run_id ts_ns client_order_id symbol side qty price",
    "positions": "run_id symbol qty avg_price realized_pnl updated_ns",
    "signals": "run_id ts_ns strategy symbol target_qty reason",
    "denials": "run_id ts_ns gate reason symbol client_order_id",
}


def _insert(j: Journal, table: str, rows: list[tuple[object, ...]]) -> None:
    """Named columns: the journal schema grows by migrations, the report reads these only."""
    cols = COLUMNS[table].split()
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    j.executemany(sql, rows)


def build_journal(path: Path, thresholds: dict[str, float] | None = None) -> dict[str, list[float]]:
    """Run "r1" (older, one snapshot) and the latest run "r2" with orders, fills, denials."""
    j = Journal(path)
    summary: dict[str, object] = {"realized_pnl": 10.0, "orders": 4}
    if thresholds is not None:
        summary["thresholds"] = thresholds
    day_ns = 86_400 * NS
    _insert(j, "runs", [
        ("r1", OPEN_NS - day_ns, None, "cfg.toml", "replay", "paper", "0.1.0", None),
        ("r2", OPEN_NS, OPEN_NS + SNAPSHOTS * STEP_NS, "cfg.toml", "replay", "paper", "0.1.0",
         json.dumps(summary)),
    ])
    rows, mids = _snapshot_rows("r2")
    rows.append(("r1", 0, OPEN_NS - day_ns, "PSQ", 10.0, 10.01, 10.0, 0.0, 0.0, 5.0))
    _insert(j, "inav_snapshots", rows)
    t_buy, t_sell, t_sds = OPEN_NS + 20 * STEP_NS, OPEN_NS + 60 * STEP_NS, OPEN_NS + 100 * STEP_NS
    t_wide = OPEN_NS + 150 * STEP_NS
    _insert(j, "orders", [
        ("o1", "r2", t_buy, "SH", "buy", 100, "limit", "day", 40.0, "premrev", "discount -12 bp",
         "filled", 100, 40.0, t_buy),
        ("o2", "r2", t_sell, "SH", "sell", 100, "market", "day", None, "premrev", "closed",
         "filled", 100, 40.10, t_sell),
        ("o3", "r2", t_sds, "SDS", "buy", 50, "market", "day", None, "premrev", "discount",
         "filled", 50, 20.0, t_sds),
        ("o4", "r2", t_wide, "SDS", "buy", 50, "market", "day", None, "premrev", "discount",
         "rejected", 0, None, t_wide),
    ])
    _insert(j, "fills", [
        ("e1", "r2", t_buy, "o1", "SH", "buy", 100, 40.0),
        ("e2", "r2", t_sell, "o2", "SH", "sell", 100, 40.10),
        ("e3", "r2", t_sds, "o3", "SDS", "buy", 50, 20.0),
    ])
    _insert(j, "positions", [("r2", "SH", 0.0, 0.0, 10.0, t_sell),
                             ("r2", "SDS", 50.0, 20.0, 10.0, t_sds)])
    _insert(j, "signals", [("r2", t_buy, "premrev", "SH", 100, "x"),
                           ("r2", t_sds, "premrev", "SDS", 50, "y")])
    _insert(j, "denials", [
        ("r2", t_wide, "spread", "spread 40 bp > mean + 3σ", "SDS", "o4"),
        ("r2", OPEN_NS + 200 * STEP_NS, "kill_switch", "<halted> & stop", None, None),
    ])
    j.close()
    return mids


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite"
    return path, build_journal(path, thresholds={"entry_bp": 15.0, "exit_bp": 3.0})


@pytest.fixture(scope="module")
def report(
    journal: tuple[Path, dict[str, list[float]]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_report(journal[0], tmp_path_factory.mktemp("report") / "out")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _images(page: str) -> dict[str, bytes]:
    """alt text → PNG bytes of every embedded image (the page links to no other file)."""
    found = re.findall(r"<img src='data:image/png;base64,([^']+)' alt='([^']+)'>", page)
    assert len(found) == page.count("<img")
    return {alt: base64.b64decode(data) for data, alt in found}


def test_report_is_one_file_with_embedded_images(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    images = _images(page)
    assert sorted(images) == ["Equity curve", "P&amp;L and position", "SDS", "SH"]
    assert [p.name for p in report.parent.iterdir()] == ["index.html"]
    for data in images.values():
        width, height = _png_size(data)
        assert width >= 800 and height >= 300
        assert len(data) > 20_000  # a plot with content, not a blank canvas


def test_trade_list_and_fees(tmp_path: Path) -> None:
    path = tmp_path / "fees.sqlite"
    build_journal(path)
    j = Journal(path)
    j.execute("UPDATE fills SET fee_usd = 0.12 WHERE execution_id = 'e2'")  # the SH sale
    j.close()
    page = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    trades = page.split("<h2>Trades</h2>")[1].split("</table>")[0]
    assert trades.count("<tr>") == 1 + 3  # header and the three fills
    assert "4,010.00" in trades and "0.12" in trades and "premrev" in trades
    assert "<tr><th class='k'>fees</th><td class='k'>$0.12</td></tr>" in page


def test_each_fund_gets_its_own_thresholds_and_funds_without_quotes_are_skipped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "own.sqlite"
    build_journal(path)
    summary = {
        "thresholds_by_fund": {
            "SH": [{"strategy": "premrev", "entry_bp": 10, "exit_bp": 2}],
            "SDS": [{"strategy": "premarb", "entry_bp": 2.5, "exit_bp": 0.5}],
        }
    }
    j = Journal(path)
    j.execute("UPDATE runs SET summary_json = ? WHERE run_id = 'r2'", (json.dumps(summary),))
    # a fund that never had a quote: its snapshots carry no mid and no iNAV
    j.executemany(
        "INSERT INTO inav_snapshots (run_id, seq, ts_ns, symbol) VALUES ('r2', ?, ?, 'TZA')",
        [(i, OPEN_NS + i * STEP_NS) for i in range(5)],
    )
    j.close()
    page = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    assert "SDS premarb ±2.5/±0.5 bp; SH premrev ±10/±2 bp" in page
    assert "TZA" not in page  # no plot, no table row
    assert sorted(_images(page)) == ["Equity curve", "P&amp;L and position", "SDS", "SH"]


def test_report_summary_figures(
    report: Path, journal: tuple[Path, dict[str, list[float]]]
) -> None:
    page = report.read_text(encoding="utf-8")
    mids = journal[1]
    # SH: +0.10 × 100 realised; SDS: 50 shares bought at 20.00, marked at the last mid
    expected = 0.10 * 100 + 50 * (mids["SDS"][-1] - 20.0)
    session = load_session(journal[0])
    assert session.run.run_id == "r2"
    assert float(compute_pnl(session).total.iloc[-1]) == pytest.approx(expected)
    assert f"${expected:,.2f}" in page if expected >= 0 else f"-${-expected:,.2f}" in page
    assert "entry ±15 bp, exit ±3 bp (run summary)" in page
    assert "2024-03-01 09:30:00 EST" in page  # times in America/New_York
    assert "4 (filled 3, rejected 1)" in page
    assert "kill_switch 1, spread 1" in page
    assert "&lt;halted&gt; &amp; stop" in page  # journal text is escaped
    assert "SDS 50" in page  # final position


def test_position_and_pnl_paths(journal: tuple[Path, dict[str, list[float]]]) -> None:
    pnl = compute_pnl(load_session(journal[0]))
    sh = pnl.position["SH"]
    assert sh.iloc[0] == 0.0 and sh.max() == 100.0 and sh.iloc[-1] == 0.0
    assert pnl.position["SDS"].iloc[-1] == 50.0
    assert pnl.pnl["SH"].iloc[-1] == pytest.approx(10.0)


def test_position_carried_into_the_run(tmp_path: Path) -> None:
    """30 SDS held before the run (final 80 = 30 + 50 bought): valued from the first mark."""
    path = tmp_path / "carry.sqlite"
    mids = build_journal(path)
    j = Journal(path)
    j.execute("UPDATE positions SET qty = 80 WHERE run_id = 'r2' AND symbol = 'SDS'")
    j.close()
    pnl = compute_pnl(load_session(path))
    sds = mids["SDS"]
    assert pnl.position["SDS"].iloc[0] == 30.0
    expected = 30 * (sds[-1] - sds[0]) + 50 * (sds[-1] - 20.0)
    assert float(pnl.pnl["SDS"].iloc[-1]) == pytest.approx(expected)


def test_older_run_by_id(journal: tuple[Path, dict[str, list[float]]], tmp_path: Path) -> None:
    page = write_report(journal[0], tmp_path, run_id="r1").read_text(encoding="utf-8")
    assert "run r1" in page
    assert "entry ±10 bp, exit ±2 bp (default)" in page
    assert sorted(_images(page)) == ["PSQ"]  # one fund, nothing traded: no P&L plots


def test_journal_is_not_modified(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    build_journal(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    write_report(path, tmp_path / "out", run_id="r1")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_run_without_data_still_renders(tmp_path: Path) -> None:
    path = tmp_path / "bare.sqlite"
    j = Journal(path)
    _insert(j, "runs", [("bare", OPEN_NS, None, None, None, None, None, "not json")])
    j.close()
    page = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    assert "run bare" in page and "nothing to plot" in page and "<img" not in page
    assert "entry ±10 bp, exit ±2 bp (default)" in page


def test_unwritable_output_is_a_one_line_error(
    journal: tuple[Path, dict[str, list[float]]], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="cannot write the report"):
        write_report(journal[0], blocker / "out", run_id="r1")


def test_journal_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    Journal(empty).close()
    with pytest.raises(DataError, match="journal has no runs"):
        write_report(empty, tmp_path / "out")
    with pytest.raises(DataError, match="no such journal file"):
        write_report(tmp_path / "absent.sqlite", tmp_path / "out")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError, match="cannot read journal"):
        write_report(junk, tmp_path / "out")


def test_cli_report(
    journal: tuple[Path, dict[str, list[float]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["report", "--journal", str(journal[0]), "--out", str(tmp_path / "r")]
    assert main([*argv, "--run-id", "r1"]) == 0
    assert (tmp_path / "r" / "index.html").exists()
    capsys.readouterr()
    code = main(["report", "--journal", str(journal[0]), "--out", str(tmp_path / "r"),
                 "--run-id", "nope"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no run 'nope'" in err and "r2" in err


def test_repeated_denials_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "rep.sqlite"
    build_journal(path)
    j = Journal(path)
    j.execute("UPDATE denials SET repeats = 3 WHERE gate = 'spread'")  # one row, four denials
    j.close()
    page = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    assert "<td class='k'>5 (kill_switch 1, spread 4)</td>" in page
