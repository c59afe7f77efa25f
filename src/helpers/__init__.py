"""Reproducible SKR report notebooks on Kolada data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skr-report")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
