"""The backtest panel's choices and words: how many origins a history holds, at what horizon,
and what each band's coverage with its 95% interval says about the band."""

from __future__ import annotations

import pytest

from tickercast.contract import CALIBRATED_MIN_ROWS, backtest_min_rows
from tickercast.web import backtest
from tickercast.web.backtest import Plan


def test_a_long_history_is_tested_at_50_origins_at_the_horizon_asked() -> None:
    (first, *rest) = backtest.plans(1250, 60, "calibrated")
    assert first == Plan(60, 50)
    assert [p.horizon for p in rest] == [20, 5, 1]  # asked only if the model refuses


@pytest.mark.parametrize("cutoffs", [20, 33, 49])
def test_a_shorter_history_gets_as_many_origins_as_it_holds(cutoffs: int) -> None:
    rows = backtest_min_rows("calibrated", 60, cutoffs)  # just enough for `cutoffs`
    first = backtest.plans(rows, 60, "calibrated")[0]
    assert (first.horizon, first.cutoffs, first.shorter) == (60, cutoffs, None)
    assert first.fewer == (
        f"Tested at {cutoffs} past dates, not 50: {rows:,} prices hold no more 60 trading days "
        "ahead."
    )
    # The model's own rule agrees: one more origin would be refused.
    assert backtest_min_rows("calibrated", 60, cutoffs + 1) > rows


def test_under_20_origins_a_shorter_horizon_is_tested_and_says_why() -> None:
    rows = backtest_min_rows("calibrated", 60, 19)
    first = backtest.plans(rows, 60, "calibrated", "weekday")[0]
    assert (first.horizon, first.cutoffs, first.fewer) == (20, 50, None)
    assert (
        first.shorter == f"{rows:,} prices are too few to test 60 weekdays ahead at 20 past dates"
    )


def test_a_history_too_short_for_20_origins_anywhere_takes_what_fits() -> None:
    rows = CALIBRATED_MIN_ROWS + 12  # 12 origins one step ahead, 8 five steps ahead
    first = backtest.plans(rows, 20, "calibrated")[0]
    assert (first.horizon, first.cutoffs) == (5, 8)
    assert first.shorter is not None and first.shorter.endswith("at 5 past dates")


def test_a_history_too_short_for_any_backtest_asks_once_for_the_models_reason() -> None:
    assert backtest.plans(CALIBRATED_MIN_ROWS + 2, 20, "calibrated") == [Plan(20, 50)]


ITEM = {"level": 80, "coverage": 0.78, "low": 0.72, "high": 0.83}


def test_coverage_sentence_with_its_interval_and_no_warning_when_it_holds_the_level() -> None:
    assert backtest.coverage_sentence(80, ITEM, 3000, 50) == (
        "The 80% band held 78% (72–83%) of 3,000 past prices at 50 dates."
    )


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (
            {"coverage": 0.71, "low": 0.66, "high": 0.77},
            " It is too narrow, by 9 points (3 to 14): expect prices outside it more often "
            "than it says.",
        ),
        (
            {"coverage": 0.88, "low": 0.84, "high": 0.92},
            " It is too wide, by 8 points (4 to 12): prices fell outside it less often than it "
            "says.",
        ),
    ],
)
def test_coverage_sentence_outside_its_interval_says_which_way_and_by_how_much(
    item: dict[str, float], words: str
) -> None:
    sentence = backtest.coverage_sentence(80, item, 1000, 50)
    assert sentence.endswith(" of 1,000 past prices at 50 dates." + words)


def test_the_interval_not_the_point_decides_the_warning() -> None:
    # 70% is ten points under 80%, yet over 20 origins the interval still holds 80%: no warning.
    wide = {"coverage": 0.70, "low": 0.55, "high": 0.81}
    assert backtest.miss_words(80, **{k: wide[k] for k in ("coverage", "low", "high")}) == ""
    # 97% held of a 95% band whose interval is 95.5–99%: too wide, by 2 points.
    assert backtest.miss_words(95, 0.97, 0.955, 0.99).startswith(" It is too wide, by 2 points")


def test_the_page_bands_are_each_worded_and_labelled() -> None:
    overall = {
        "count": 3000,
        "coverage": 0.78,
        "by_level": [
            {"level": 50, "coverage": 0.35, "low": 0.3, "high": 0.41},
            ITEM,
            {"level": 95, "coverage": 0.94, "low": 0.91, "high": 0.97},
        ],
    }
    result = {
        "method": "calibrated",
        "horizon": 60,
        "interval_width": 0.8,
        "folds": [{}] * 50,
        "scores": {"calibrated": {"overall": overall, "by_step": []}},
        "verdict": "Over 50 past periods.",
    }
    data = backtest.answer(result, 60, None, "XNYS")
    assert [b["level"] for b in data["coverage"]] == [50, 80, 95]
    assert data["coverage"][0]["sentence"].endswith(
        "It is too narrow, by 15 points (9 to 20): "
        "expect prices outside it more often than "
        "it says."
    )
    assert "too" not in data["coverage"][2]["sentence"]
    assert data["band_label"] == "80% band, held 78% (72–83%) of prices in backtests"
    assert data["band_labels"] == {
        "50": "50% band, held 35% (30–41%) of prices in backtests",
        "80": "80% band, held 78% (72–83%) of prices in backtests",
        "95": "95% band, held 94% (91–97%) of prices in backtests",
    }


def test_an_answer_without_levels_still_words_its_band() -> None:
    overall = {"count": 100, "coverage": 0.79}
    result = {
        "method": "prophet",
        "horizon": 5,
        "interval_width": 0.8,
        "folds": [{}] * 20,
        "scores": {"prophet": {"overall": overall, "by_step": []}},
        "verdict": "v",
    }
    data = backtest.answer(result, 5, None, "XNYS", "Tested at 20 past dates, not 50: few.")
    assert data["coverage"] == []
    assert data["band_label"] == "80% band, held 79% of prices in backtests"
    assert data["summary"] == "Tested at 20 past dates, not 50: few. v"
