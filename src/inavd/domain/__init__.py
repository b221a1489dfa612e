"""Pure domain types: no I/O, no adapters."""
