"""`method` keeps the original's answers: the default's digest (the cache key and the seed of
the uncertainty sampling) is the one the service had before the field existed."""

from __future__ import annotations

import pandas as pd
import pytest

from tickercast.contract import parse_request
from tickercast.errors import InvalidInput

BODY = {"ds": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], "y": [1, 2, 3, 5]}

# Computed by the service before `method` existed, for BODY with periods=3.
DIGEST_BEFORE_METHOD = "6b77b7c0297060e2238d35930b677a59137abfdcfbf8b4249639a8fd5b5d62ab"


def test_default_method_keeps_the_digest_and_seed_of_before() -> None:
    plain = parse_request({**BODY, "periods": 3})
    explicit = parse_request({**BODY, "periods": 3, "method": "prophet"})
    assert plain.method == explicit.method == "prophet"
    assert plain.digest() == explicit.digest() == DIGEST_BEFORE_METHOD
    assert plain.seed() == explicit.seed() == int(DIGEST_BEFORE_METHOD[:8], 16)


def test_another_method_is_another_answer() -> None:
    ds = [str(d.date()) for d in pd.bdate_range("2024-01-01", periods=130)]
    base = {"ds": ds, "y": list(range(130)), "periods": 3}
    assert parse_request({**base, "method": "calibrated"}).digest() != parse_request(base).digest()


def test_the_engine_keeps_the_digest_and_seed_of_before() -> None:
    """The fit engine is not in the digest (the cache key's version tag names it): the band's
    draws are the same whichever engine fits, so `engine: "cmdstan"` answers as before."""
    plain = parse_request({**BODY, "periods": 3})
    fast = parse_request({**BODY, "periods": 3, "engine": "fast"})
    cmdstan = parse_request({**BODY, "periods": 3, "engine": "cmdstan"})
    assert (plain.engine, fast.engine, cmdstan.engine) == (None, "fast", "cmdstan")
    assert plain.digest() == fast.digest() == cmdstan.digest() == DIGEST_BEFORE_METHOD


@pytest.mark.parametrize("engine", ["stan", "FAST", "", 1, True, ["fast"]])
def test_an_unknown_engine_is_refused_naming_the_accepted_ones(engine: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request({**BODY, "engine": engine})
    assert caught.value.message.startswith("invalid input: unknown engine ")
    assert caught.value.message.endswith("use 'cmdstan' or 'fast'")
