"""Research at scale: multi-day backtests and parameter sweeps.

Every (setting, day) pair is one independent task that runs the daemon's own replay
(`inavd.commands.run.run_session`) into a private folder and returns a compact row. Tasks run
serially, on a local Dask cluster or on an existing Dask scheduler; the rows are the same in all
three. Dask is imported only by the runner, so `inavd run` never pays for it.
"""
