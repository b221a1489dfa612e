"""SIGKILL the daemon at random points of a replay with icebergs and MOC orders, restart it each
time, and check the money invariants against the (durable) paper venue."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.fault.scenario import (
    POSITIONS,
    make_quotes,
    net,
    q,
    recover,
    spawn,
    wait_exit,
    write_config,
)

KILLS = 50


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill9_at_random_points_never_duplicates_or_loses(tmp_path: Path) -> None:
    quotes = tmp_path / "quotes.parquet"
    make_quotes(quotes, step=160)
    rng = random.Random(20191219)
    kills = runs = lives = 0
    # kill at a uniform point of one uninterrupted life, measured here: a fixed window would give
    # too few kills on a fast machine (lives finish first) and time out on a slow one. A life that
    # that starts a run and ends before its kill point is another such measure: on a box whose
    # load drops after the probe, the window follows the faster lives instead of letting most of
    # them finish unkilled (a restarted life resumes part-way: shorter, not a measure)
    window = _uninterrupted_life_s(tmp_path / "probe", quotes)
    while kills < KILLS and runs < 100:
        cfg = write_config(tmp_path, f"fault{runs}", quotes)
        first = True
        while True:  # one run: restart after every kill until it completes
            lives += 1
            t0 = time.monotonic()
            pid = spawn(cfg)
            code = wait_exit(pid, rng.uniform(0.0, window))
            if code == 0 and first:
                window = min(window, time.monotonic() - t0)
            first = False
            if code is None:
                os.kill(pid, signal.SIGKILL)
                code = wait_exit(pid, 30)
                # the daemon may finish between the poll and the kill: then it exited by itself
                assert code in (-signal.SIGKILL, 0)
                if code == -signal.SIGKILL:
                    kills += 1
                    if not _completed(tmp_path, f"fault{runs}"):
                        continue  # restart the same run
                    break  # killed on its way out, after the run was recorded as complete
            log = cfg.with_suffix(".log").read_text()[-3000:]
            assert code == 0, f"daemon failed with exit code {code} (life {lives}):\n{log}"
            break
        runs += 1
    assert kills >= KILLS
    print(f"{kills} kills over {lives} lives and {runs} runs")
    _check_invariants(tmp_path / "state")


def _uninterrupted_life_s(tmp: Path, quotes: Path) -> float:
    tmp.mkdir()
    t0 = time.monotonic()
    code = wait_exit(spawn(write_config(tmp, "probe", quotes)), 120)
    assert code == 0, f"an uninterrupted life failed with {code}"
    return time.monotonic() - t0


def _completed(tmp: Path, run_id: str) -> bool:
    journal = tmp / "state" / "journal.sqlite"
    if not journal.exists():
        return False
    recover(journal)  # the daemon is dead: what its redo log holds counts
    rows = q(journal, f"SELECT ended_ns FROM runs WHERE run_id='{run_id}'")
    return bool(rows) and rows[0][0] is not None


def _check_invariants(state: Path) -> None:
    journal, venue = state / "journal.sqlite", state / "venue.sqlite"
    recover(journal)
    # 1. no client order id ever reached the venue twice
    assert q(venue, "SELECT coid, count(*) FROM submits GROUP BY coid HAVING count(*) > 1") == []
    assert q(venue, "SELECT count(*) FROM submits WHERE duplicate")[0][0] == 0
    # 2. write-ahead: every order the venue saw is in the journal
    venue_ids = {c for (c,) in q(venue, "SELECT coid FROM orders")}
    journal_ids = {c for (c,) in q(journal, "SELECT client_order_id FROM orders")}
    assert venue_ids <= journal_ids
    # 3. no fill missing from the journal, none invented
    vfills = {json.loads(b)["execution_id"] for (b,) in q(venue, "SELECT body FROM fills")}
    jfills = {e for (e,) in q(journal, "SELECT execution_id FROM fills")}
    assert vfills == jfills
    # 4. positions equal the broker's
    vpos: dict[str, float] = {}
    for (b,) in q(venue, "SELECT body FROM fills"):
        f = json.loads(b)
        sign = 1 if f["side"] == "buy" else -1
        vpos[f["symbol"]] = vpos.get(f["symbol"], 0.0) + sign * f["qty"]
    assert net(list(vpos.items())) == net(q(journal, POSITIONS))
    # 5. the scenario really exercised icebergs and the closing auction
    children = q(journal, "SELECT count(*) FROM orders WHERE parent_id IS NOT NULL")[0][0]
    moc = q(journal, "SELECT count(*) FROM orders WHERE time_in_force='cls' AND status='filled'")
    assert children > 50 and moc[0][0] > 0
    # 6. every journaled order is final at the end of each session (none left dangling)
    open_rows = q(journal, "SELECT client_order_id, status FROM orders WHERE status IN"
                  " ('new','accepted','pending_new','partially_filled')")  # fmt: skip
    assert open_rows == []
