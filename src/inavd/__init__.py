"""inavd: live trading daemon for inverse and leveraged ETFs."""

# The one place the version is written (pyproject.toml reads it at build time): importing
# importlib.metadata to look it up cost every command 25 ms.
__version__ = "0.1.0"

__all__ = ["__version__"]

# before any module of the compiled decision path is imported: its compiled group runs only while
# every source still is the one it was compiled from (`inavd.native`)
from inavd import native as _native

_native.install()
