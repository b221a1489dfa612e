"""Scale benchmark: seeded synthetic universes of 1,000 and 10,000 funds over SPY, QQQ, IWM and DIA
(leverage ±1, ±2, ±3, plus the bundled universe's real funds so every default strategy has its
symbols), a full session of quotes each, replayed by `inavd run` in a fresh process with the
default config and limits. Records quotes/s, the whole step per evaluation, peak RSS (and the
RSS of the imports alone), the journal's growth, the WAL's peak, the iNAV history written and
the most of it held in memory; also `inavd version` and the default run's whole process against
its replay time. Inputs go to a temporary directory and are not kept.

    .venv/bin/python -m bench.bench_scale [--funds 1000,10000] [--quotes 2000000,5000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import machine, median
from inavd.calendar import session_for

DAY = date(2019, 12, 19)
BENCH = {"SPY": 320.7, "QQQ": 212.6, "IWM": 165.4, "DIA": 283.4}
LEVERAGES = (-3.0, -2.0, -1.0, 1.0, 2.0, 3.0)
CHUNK = 500_000
INAVD = [sys.executable, "-m", "inavd"]


def _real_universe() -> dict[str, dict[str, object]]:
    text = (files("inavd") / "data" / "config" / "universe.toml").read_text()
    funds: dict[str, dict[str, object]] = tomllib.loads(text)["funds"]
    return {s: f for s, f in funds.items() if f["benchmark"] in BENCH}


def write_universe(d: Path, n_funds: int, rng: np.random.Generator) -> dict[str, tuple]:
    """universe.toml and reference.csv; returns symbol → (benchmark, leverage, prior close)."""
    spec: dict[str, tuple] = {}
    for sym, f in _real_universe().items():
        spec[sym] = (str(f["benchmark"]), float(f["leverage"]), float(rng.uniform(15, 80)))
    names = list(BENCH)
    for i in range(n_funds - len(spec)):
        lev = LEVERAGES[(i // 4) % len(LEVERAGES)]
        spec[f"Z{i:05d}"] = (names[i % 4], lev, float(rng.uniform(10, 100)))
    lines = [f'[benchmarks.{b}]\nindex = "{b}"' for b in BENCH]
    for sym, (b, lev, _) in spec.items():
        lines.append(
            f'[funds.{sym}]\nbenchmark = "{b}"\nleverage = {lev}\nexpense_ratio = 0.0095\n'
            "aum_usd = 5e8\nshortable = true"
        )
    (d / "universe.toml").write_text("\n".join(lines) + "\n")
    ref = ["symbol,prior_close"] + [f"{b},{p}" for b, p in BENCH.items()]
    ref += [f"{s},{p}" for s, (_, _, p) in spec.items()]
    (d / "reference.csv").write_text("\n".join(ref) + "\n")
    return spec


def write_session(path: Path, spec: dict[str, tuple], n_quotes: int, seed: int) -> None:
    """Quotes over the whole session, written a row group at a time (time-sorted)."""
    rng = np.random.default_rng(seed)
    s = session_for(DAY)
    assert s is not None
    seconds = (s.close_ns - s.open_ns) // 10**9
    names = list(BENCH)
    # benchmark paths at 1 s: 15 % annual volatility
    steps = rng.normal(0, 0.15 / np.sqrt(252 * 23_400), (seconds + 1, len(names)))
    move = np.exp(np.cumsum(steps, axis=0)) - 1.0
    symbols = names + list(spec)
    b_of = np.array([names.index(spec[x][0]) for x in spec])
    lev = np.array([spec[x][1] for x in spec])
    prior = np.array([BENCH[b] for b in names] + [spec[x][2] for x in spec])
    writer = None
    chunks = -(-n_quotes // CHUNK)
    try:
        for c in range(chunks):
            n = min(CHUNK, n_quotes - c * CHUNK)
            lo, hi = s.open_ns + c * (s.close_ns - s.open_ns) // chunks, s.open_ns + (c + 1) * (
                s.close_ns - s.open_ns
            ) // chunks
            ts = np.sort(rng.integers(lo, hi, n))
            sec = (ts - s.open_ns) // 10**9
            is_bench = rng.random(n) < 0.1
            sym = np.where(
                is_bench, rng.integers(0, len(names), n), len(names) + rng.integers(0, len(spec), n)
            )
            fund = np.clip(sym - len(names), 0, len(spec) - 1)
            m_b = move[sec, np.where(is_bench, sym, b_of[fund]) % len(names)]
            mid = prior[sym] * np.where(is_bench, 1 + m_b, (1 + lev[fund] * m_b))
            mid *= 1 + np.where(is_bench, 0.0, rng.normal(0, 3e-4, n))
            half = mid * np.where(is_bench, 0.5e-4, 2.5e-4)
            table = pa.table(
                {
                    "ts": ts.astype(np.int64),
                    "symbol": pa.DictionaryArray.from_arrays(
                        pa.array(sym.astype(np.int32)), pa.array(symbols)
                    ),
                    "bid": np.round(mid - half, 2),
                    "ask": np.round(mid + half, 2) + 0.01,
                    "bid_size": rng.integers(1, 20, n) * 100.0,
                    "ask_size": rng.integers(1, 20, n) * 100.0,
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=65_536)  # as `inavd record` and `sample` write
    finally:
        if writer is not None:
            writer.close()


def write_config(d: Path, quotes: Path, snapshot_every_s: float) -> Path:
    cfg = d / "scale.toml"
    cfg.write_text(
        f'universe_file = "{d / "universe.toml"}"\n'
        f'[run]\ndata_dir = "{d / "var"}"\nprogress = false\nlog_level = "warning"\n'
        f'[feed]\nkind = "replay"\npath = "{quotes}"\n'
        f'[reference]\nsource = "file"\npath = "{d / "reference.csv"}"\n'
        f"[journal]\nsnapshot_every_s = {snapshot_every_s}\n"
    )
    return cfg


def run_once(cfg: Path, d: Path) -> dict[str, float]:
    """One `inavd run` in a fresh process: its summary and its peak RSS."""
    var = d / "var"
    if var.exists():
        subprocess.run(["rm", "-rf", str(var)], check=True)
    out, rss = d / "summary.json", d / "rss.txt"
    t0 = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(rss), *INAVD, "run", "--config", str(cfg),
         "--quiet", "--summary-json", str(out)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    process_s = time.perf_counter() - t0
    s = json.loads(out.read_text())
    st = s["storage"]
    return {
        "quotes": s["quotes"],
        "quotes_per_s": s["quotes_per_second"],
        "step_ms": s["step_ms"]["mean"],
        "step_ms_max": s["step_ms"]["max"],
        "rss_mb": int(rss.read_text().split()[-1]) / 1024,
        "journal_mb": st["journal_bytes"] / 2**20,
        "wal_peak_mb": st["wal_peak_bytes"] / 2**20,
        "history_mb": st.get("snapshot_bytes", 0) / 2**20,
        "history_held_rows": st.get("snapshot_peak_held_rows", 0),
        "orders": s["orders"],
        "denials": sum(s["denials"].values()),
        "replay_s": s["wall_seconds"],
        "process_s": process_s,
    }


def bench_universe(n_funds: int, n_quotes: int, runs: int, every_s: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="inavd-scale-") as tmp:
        d = Path(tmp)
        spec = write_universe(d, n_funds, np.random.default_rng(n_funds))
        quotes = d / "quotes.parquet"
        write_session(quotes, spec, n_quotes, seed=n_funds + n_quotes)
        cfg = write_config(d, quotes, every_s)
        results = [run_once(cfg, d) for _ in range(runs)]
    return {k: median([r[k] for r in results]) for k in results[0]}


def import_baseline_mb() -> float:
    """Peak RSS of a process that only imports what a replay imports: the rest of a run's peak
    is what its universe and its data cost."""
    with tempfile.TemporaryDirectory(prefix="inavd-imports-") as tmp:
        rss = Path(tmp) / "rss.txt"
        code = "import inavd.cli, inavd.commands.run, pyarrow.parquet"
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}  # as the command line sets
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss), sys.executable, "-c", code],
                       check=True, env=env)  # fmt: skip
        return int(rss.read_text().split()[-1]) / 1024


def bench_startup(runs: int) -> dict[str, float]:
    version = []
    for _ in range(max(runs, 5)):
        t0 = time.perf_counter()
        subprocess.run([*INAVD, "version"], check=True, stdout=subprocess.DEVNULL)
        version.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory(prefix="inavd-default-") as tmp:
        d = Path(tmp)
        cfg = d / "default.toml"
        cfg.write_text(f'[run]\ndata_dir = "{d / "var"}"\nprogress = false\n')
        default = [run_once(cfg, d) for _ in range(runs)]
    return {
        "version_s": median(version),
        "default_rss_mb": median([r["rss_mb"] for r in default]),
        "default_replay_s": median([r["replay_s"] for r in default]),
        "default_process_s": median([r["process_s"] for r in default]),
        "default_quotes_per_s": median([r["quotes_per_s"] for r in default]),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--funds", default="1000,10000")
    p.add_argument("--quotes", default="2000000,5000000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--snapshot-every-s", type=float, default=0.0)
    p.add_argument("--skip-startup", action="store_true")
    a = p.parse_args()
    print(machine(), f"load average {os.getloadavg()[0]:.1f}")
    print(f"imports alone: peak RSS {import_baseline_mb():.0f} MB")
    if not a.skip_startup:
        print("startup:", json.dumps({k: round(v, 3) for k, v in bench_startup(a.runs).items()}))
    for n_funds in (int(x) for x in a.funds.split(",")):
        for n_quotes in (int(x) for x in a.quotes.split(",")):
            r = bench_universe(n_funds, n_quotes, a.runs, a.snapshot_every_s)
            print(
                f"{n_funds:,} funds × {n_quotes / 1e6:g} M quotes (median of {a.runs}):",
                json.dumps({k: round(v, 3) for k, v in r.items()}),
                flush=True,
            )


if __name__ == "__main__":
    main()
