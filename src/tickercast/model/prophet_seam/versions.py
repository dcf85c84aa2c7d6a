"""The Prophet releases this seam was checked against, and the check at start.

`SUPPORTED_PROPHET` is the one statement of them: pyproject.toml's `model` extra pins the same
range (a test holds them equal), the lock files pin a release inside it, and the service
refuses to start with any other, naming both, rather than answer with internals that moved.
A new Prophet release is supported by running the seam's tests against it (its bit-exact
predict above all) and widening the range here and in pyproject.toml together.
"""

from __future__ import annotations

import re
from importlib import metadata

SUPPORTED_PROPHET = ">=1.5,<1.6"


class UnsupportedProphet(RuntimeError):
    """The installed Prophet is missing or outside `SUPPORTED_PROPHET`."""


def _release(version: str) -> tuple[int, ...]:
    """`"1.5.0"` as (1, 5, 0): the leading numbers, whatever suffix follows."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match[0].split(".")) if match else ()


def _bounds() -> tuple[tuple[int, ...], tuple[int, ...]]:
    match = re.fullmatch(r">=([\d.]+),<([\d.]+)", SUPPORTED_PROPHET)
    assert match is not None, "SUPPORTED_PROPHET is a lower and an upper bound"
    return _release(match[1]), _release(match[2])


def is_supported(version: str) -> bool:
    lowest, below = _bounds()
    return lowest <= _release(version) < below


def check_prophet(version: str | None = None) -> str:
    """The installed Prophet's version (or `version`), when supported; else
    `UnsupportedProphet` saying which one is there and which are supported. Reads the package's
    metadata: Prophet itself is not imported."""
    if version is None:
        try:
            version = metadata.version("prophet")
        except metadata.PackageNotFoundError:
            raise UnsupportedProphet(
                f"Prophet is not installed; the model service needs prophet{SUPPORTED_PROPHET} "
                "(pip install 'tickercast[model]')"
            ) from None
    if not is_supported(version):
        raise UnsupportedProphet(
            f"Prophet {version} is installed; the model service supports "
            f"prophet{SUPPORTED_PROPHET} only, as it relies on Prophet's internals "
            f"(pip install 'prophet{SUPPORTED_PROPHET}')"
        )
    return version
