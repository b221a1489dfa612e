"""inavd: live trading daemon for inverse and leveraged ETFs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inavd")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
