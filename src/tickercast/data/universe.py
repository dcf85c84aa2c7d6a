"""A universe: the tickers `tickercast refresh --universe` forecasts every night, and its shards.

A universe file is CSV with a header row naming a `symbol` column and optionally a `name`
column (other columns are ignored); blank lines and lines starting with `#` are ignored, so a
file can say where its list comes from. Each symbol is a ticker symbol (`normalize_ticker`),
once. `--universe sp500` names a file shipped with the package (`universes/sp500.csv`); any
other value is a path.

A shard is the share of a universe one process takes: `shard_of(symbol, n)` is a stable hash
(SHA-256 of the upper-cased symbol, modulo `n`), the same on every machine and run, so each
ticker is in exactly one of `n` shards and stays there while `n` does not change. (Python's
`hash()` of a string changes from one process to the next.)
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tickercast.data.frames import normalize_ticker
from tickercast.errors import InvalidInput

SHIPPED = ("sp500",)  # universes shipped with the package, by name
SHARD_INDEX_VARIABLE = "JOB_COMPLETION_INDEX"  # set by a Kubernetes Indexed Job in each pod


class UniverseError(Exception):
    """A universe file that cannot be read, or a shard that cannot be taken: says why."""


@dataclass(frozen=True)
class Member:
    symbol: str
    name: str = ""


def universe_text(name_or_path: str) -> tuple[str, str]:
    """The text of a shipped universe (by name) or of a file, and where it came from."""
    if name_or_path in SHIPPED:
        shipped = resources.files("tickercast.data").joinpath(f"universes/{name_or_path}.csv")
        return shipped.read_text(encoding="utf-8"), f"the shipped universe {name_or_path}"
    try:
        return Path(name_or_path).read_text(encoding="utf-8"), name_or_path
    except (OSError, UnicodeDecodeError) as exc:
        raise UniverseError(f"cannot read the universe {name_or_path}: {exc}") from None


def parse_universe(text: str, where: str = "the universe") -> list[Member]:
    """The members of a universe file's text, in its order."""
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise UniverseError(f"{where} has no header row with a symbol column")
    header = [cell.strip().lower() for cell in _cells(numbered[0][1])]
    if "symbol" not in header:
        raise UniverseError(f"{where}: its header (line {numbered[0][0]}) has no symbol column")
    at, name_at = header.index("symbol"), header.index("name") if "name" in header else None
    members: list[Member] = []
    seen: dict[str, int] = {}
    for line, text_line in numbered[1:]:
        cells = _cells(text_line)
        raw = cells[at].strip() if at < len(cells) else ""
        try:
            symbol = normalize_ticker(raw)
        except InvalidInput:
            raise UniverseError(
                f"{where}, line {line}: {raw[:20]!r} is not a ticker symbol"
            ) from None
        if symbol in seen:
            raise UniverseError(
                f"{where}, line {line}: {symbol} again (first on line {seen[symbol]})"
            )
        seen[symbol] = line
        name = cells[name_at].strip() if name_at is not None and name_at < len(cells) else ""
        members.append(Member(symbol, name))
    if not members:
        raise UniverseError(f"{where} names no symbol")
    return members


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def load_universe(name_or_path: str) -> list[Member]:
    text, where = universe_text(name_or_path)
    return parse_universe(text, where)


def shard_of(symbol: str, shards: int) -> int:
    """The shard (0 to `shards` - 1) that `symbol` belongs to, the same everywhere."""
    digest = hashlib.sha256(symbol.strip().upper().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def take(self, members: list[Member]) -> list[Member]:
        """This shard's members, in the universe's order."""
        return [m for m in members if shard_of(m.symbol, self.count) == self.index]

    @classmethod
    def parse(cls, text: str, environ: dict[str, str] | None = None) -> Shard:
        """`I/N` (0 <= I < N), or `auto/N`: I from JOB_COMPLETION_INDEX."""
        index_text, slash, count_text = text.partition("/")
        if not slash or not count_text.strip().isdigit() or int(count_text) < 1:
            raise UniverseError(f"--shard {text!r}: expected I/N or auto/N, N at least 1")
        count = int(count_text)
        if index_text.strip() == "auto":
            value = (os.environ if environ is None else environ).get(SHARD_INDEX_VARIABLE, "")
            if not value.strip().isdigit():
                raise UniverseError(f"--shard auto/{count}: {SHARD_INDEX_VARIABLE} is not set")
            index_text = value
        if not index_text.strip().isdigit() or int(index_text) >= count:
            raise UniverseError(f"--shard {text!r}: the index must be from 0 to {count - 1}")
        return cls(int(index_text), count)
