from inavd.cli import entry

raise SystemExit(entry())
