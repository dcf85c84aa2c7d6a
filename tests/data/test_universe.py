"""Universes for `tickercast refresh --universe`: the file format, the shipped S&P 500, and
shards that split any universe into disjoint parts, the same on every machine."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickercast.data.universe import (
    Member,
    Shard,
    UniverseError,
    load_universe,
    parse_universe,
    shard_of,
    universe_text,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_sp500_has_its_constituents_with_names_date_and_source() -> None:
    members = load_universe("sp500")
    assert len(members) == 503
    symbols = [m.symbol for m in members]
    assert len(set(symbols)) == 503
    assert {"AAPL", "MSFT", "BRK-B", "BF-B"} <= set(symbols)  # class shares as providers spell
    assert all(m.name for m in members)
    text, where = universe_text("sp500")
    head = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for said in ("2026-08-08", "s-and-p-500-companies", "Wikipedia", "ODC-PDDL-1.0"):
        assert said in head
    assert where == "the shipped universe sp500"


def test_the_universes_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["tickercast"]
    assert "data/universes/*.csv" in patterns
    assert (ROOT / "src/tickercast/data/universes/sp500.csv").is_file()


def test_comments_blank_lines_extra_columns_and_a_missing_name_are_fine() -> None:
    text = "# my list\n\nSector,Symbol,Name\nTech, aapl ,Apple\n  # later\nTech,MSFT\n"
    assert parse_universe(text) == [Member("AAPL", "Apple"), Member("MSFT", "")]
    assert parse_universe("symbol\nIBM\n") == [Member("IBM")]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "no header row"),
        ("# only a comment\n", "no header row"),
        ("ticker,name\nAAPL,Apple\n", "line 1) has no symbol column"),
        ("symbol\n", "names no symbol"),
        ("symbol\nAAPL\nnot a symbol!\n", "line 3: 'not a symbol!' is not a ticker symbol"),
        ("symbol,name\n,Nothing\n", "line 2: '' is not a ticker symbol"),
        ("symbol\nAAPL\n\naapl\n", "line 4: AAPL again (first on line 2)"),
    ],
)
def test_a_bad_universe_says_what_and_where(text: str, said: str) -> None:
    with pytest.raises(UniverseError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_universe(text, "u.csv")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UniverseError, match="cannot read the universe"):
        load_universe(str(tmp_path / "none.csv"))
    (tmp_path / "u.csv").write_text("symbol,name\nIBM,International Business Machines\n")
    assert load_universe(str(tmp_path / "u.csv")) == [
        Member("IBM", "International Business Machines")
    ]


SYMBOLS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(symbols=st.lists(SYMBOLS, unique=True, max_size=200), count=st.integers(1, 12))
def test_every_ticker_is_in_exactly_one_shard(symbols: list[str], count: int) -> None:
    members = [Member(s) for s in symbols]
    shards = [Shard(i, count).take(members) for i in range(count)]
    taken = [m.symbol for shard in shards for m in shard]
    assert sorted(taken) == sorted(symbols)  # each once: none lost, none twice
    for shard in shards:  # and in the universe's order
        assert [m.symbol for m in shard] == [s for s in symbols if s in {m.symbol for m in shard}]


def test_the_shard_is_a_stable_hash_of_the_upper_cased_symbol() -> None:
    # SHA-256's first 8 bytes, big-endian, modulo N: the same in every process and release.
    assert [shard_of("AAPL", n) for n in (1, 2, 3, 7)] == [0, 1, 1, 1]
    for symbol in ("MSFT", "BRK-B", "7203.T"):
        digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:16], 16)
        assert [shard_of(symbol, n) for n in (2, 5, 11)] == [digest % n for n in (2, 5, 11)]
    assert shard_of("aapl", 7) == shard_of("AAPL", 7)
    halves = [len(Shard(i, 2).take(load_universe("sp500"))) for i in range(2)]
    assert sum(halves) == 503 and min(halves) > 200


def test_the_shard_option() -> None:
    assert Shard.parse("1/4") == Shard(1, 4)
    assert Shard.parse("auto/3", {"JOB_COMPLETION_INDEX": "2"}) == Shard(2, 3)
    assert str(Shard.parse("0/1")) == "0/1"
    for bad in ("4/4", "1", "-1/2", "a/2", "0/0", "auto/3"):
        with pytest.raises(UniverseError):
            Shard.parse(bad, {})
    with pytest.raises(UniverseError, match="from 0 to 2"):
        Shard.parse("auto/3", {"JOB_COMPLETION_INDEX": "3"})
