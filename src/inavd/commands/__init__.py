"""CLI subcommands; each module exposes `register(subparsers)` setting `func` on its parser."""
