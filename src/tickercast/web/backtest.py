"""How good is this forecast? The model answers that (POST /backtest: rolling origins, each
fit only on what came before, scored against what happened and against the random walk).

This module decides what to ask for and words what came back; nothing here does I/O.

What to ask (`plans`) is computed from the history's length by the model's own rule
(`contract.backtest_min_rows`), so a page makes one request, not a search: `MOST_ORIGINS`
origins at the horizon the user asked for; with a shorter history, as many as fit down to
`FEWEST_ORIGINS`; then the longest shorter horizon of `FALLBACK_HORIZONS` that fits that many.
Every level of the page (`PAGE_LEVELS`) is asked, so each band's coverage comes with its 95%
interval (a bootstrap over origins), and the sentences warn only when that interval misses the
band's nominal level: with 50 origins, a band that held 78% where 80% was promised has not been
shown to be too narrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickercast.contract import MAX_CUTOFFS, backtest_min_rows
from tickercast.quant.calendars import step_word
from tickercast.web.series import PAGE_BANDS

MOST_ORIGINS = MAX_CUTOFFS  # 50: the model's most
FEWEST_ORIGINS = 20  # below this, a shorter horizon with more origins says more
LAST_RESORT_ORIGINS = 5  # a history too short for 20 origins at any horizon: what fits
FALLBACK_HORIZONS = (120, 60, 20, 5, 1)
MASE_MEANS = (
    "MASE = our mean absolute error ÷ the random walk's; below 1 beats it. The interval score "
    "is the band's width plus a penalty for every price outside it; ÷ the random walk's band's, "
    "below 1 means a narrower band that still holds."
)


@dataclass(frozen=True)
class Plan:
    """One backtest to ask: its horizon, its origins, and why either is less than asked."""

    horizon: int
    cutoffs: int
    shorter: str | None = None  # why the horizon is shorter than asked
    fewer: str | None = None  # why there are fewer origins than MOST_ORIGINS


def horizons_to_try(asked: int) -> list[int]:
    """The horizon asked for first, then shorter ones, longest first."""
    return [asked] + [h for h in FALLBACK_HORIZONS if h < asked]


def origins_that_fit(rows: int, horizon: int, method: str) -> int:
    """The most origins the model accepts for `rows` rows at `horizon` (0 when none)."""
    return max(0, rows - backtest_min_rows(method, horizon, 1) + 1)


def plans(rows: int, asked: int, method: str, step: str = "trading day") -> list[Plan]:
    """The backtests worth asking for a history of `rows` rows, best first: the page asks the
    first and the next only if the model refuses it. When no horizon fits `FEWEST_ORIGINS`
    origins, the longest that fits `LAST_RESORT_ORIGINS`; when none does, the asked horizon at
    `MOST_ORIGINS`, so the model's refusal says why."""
    good: list[Plan] = []
    poor: list[Plan] = []
    for horizon in horizons_to_try(asked):
        cutoffs = min(MOST_ORIGINS, origins_that_fit(rows, horizon, method))
        shorter = None
        if horizon < asked:
            least = FEWEST_ORIGINS if cutoffs >= FEWEST_ORIGINS else LAST_RESORT_ORIGINS
            shorter = (
                f"{rows:,} prices are too few to test {_steps(asked, step)} ahead at "
                f"{least} past dates"
            )
        fewer = None
        if cutoffs < MOST_ORIGINS:
            fewer = (
                f"Tested at {cutoffs} past dates, not {MOST_ORIGINS}: {rows:,} prices hold no "
                f"more {_steps(horizon, step)} ahead."
            )
        plan = Plan(horizon, cutoffs, shorter, fewer)
        if cutoffs >= FEWEST_ORIGINS:
            good.append(plan)
        elif cutoffs >= LAST_RESORT_ORIGINS:
            poor.append(plan)
    return good + poor or [Plan(asked, MOST_ORIGINS)]


def band_label(
    interval_width: float,
    coverage: float | None,
    up_to: int | None = None,
    step: str = "trading day",
    interval: tuple[float, float] | None = None,
) -> str:
    """The band's legend: its nominal width and, once measured, what it held, with its 95%
    interval when known (`up_to`: the horizon measured, when shorter than the one drawn, in
    `step`s)."""
    label = f"{interval_width:.0%} band"
    if coverage is None:
        return label
    spread = f" ({_range(*interval)})" if interval else ""
    label = f"{label}, held {coverage:.0%}{spread} of prices in backtests"
    return f"{label} up to {_steps(up_to, step)} ahead" if up_to else label


def shortened_note(asked: int, horizon: int, reason: str, step: str = "trading day") -> str:
    reason = reason.rstrip(".")
    return (
        f"Backtested {_steps(horizon, step)} ahead, not the {_steps(asked, step)} asked for: "
        f"{reason}."
    )


def _steps(n: int, step: str) -> str:
    return f"{n} {step}" if n == 1 else f"{n} {step}s"


def _range(low: float, high: float) -> str:
    return f"{low * 100:.0f}–{high * 100:.0f}%"


def level_item(scores: Mapping[str, Any], level: int) -> dict[str, Any] | None:
    """The model's `by_level` item of `level` in a method's `overall` (or one step's)."""
    for item in scores.get("by_level") or ():
        if float(item["level"]) == float(level):
            return dict(item)
    return None


def miss_words(level: int, coverage: float, low: float, high: float) -> str:
    """What a band's coverage says of its width: nothing when its 95% interval holds the
    nominal level; else which way it is off and by how much (points, with their interval)."""
    nominal = level / 100
    if low <= nominal <= high:
        return ""
    off = round(abs(nominal - coverage) * 100)
    near, far = sorted((round(abs(nominal - low) * 100), round(abs(nominal - high) * 100)))
    if high < nominal:
        return (
            f" It is too narrow, by {off} points ({near} to {far}): expect prices outside it "
            "more often than it says."
        )
    return (
        f" It is too wide, by {off} points ({near} to {far}): prices fell outside it less "
        "often than it says."
    )


def coverage_sentence(
    level: int, item: Mapping[str, Any], count: int, cutoffs: int, reach: str = ""
) -> str:
    """ "The 80% band held 78% (72–83%) of 3,000 past prices at 50 dates.", and what that
    says of its width (`miss_words`); `reach` e.g. " up to 20 trading days ahead"."""
    coverage, low, high = item.get("coverage"), item.get("low"), item.get("high")
    where = f"of {count:,} past prices at {cutoffs} dates{reach}"
    if coverage is None:
        return f"The {level}% band could not be scored {where}."
    if low is None or high is None:
        return f"The {level}% band held {coverage:.0%} {where}."
    held = f"The {level}% band held {coverage:.0%} ({_range(low, high)}) {where}."
    return held + miss_words(level, coverage, low, high)


def band_coverage(
    overall: Mapping[str, Any], cutoffs: int, reach: str, levels: Sequence[int] = PAGE_BANDS
) -> list[dict[str, Any]]:
    """Each of the page's bands the model scored: its level, coverage, interval and sentence."""
    count = int(overall.get("count") or 0)
    out = []
    for level in levels:
        item = level_item(overall, level)
        if item is not None:
            item["level"] = level
            item["sentence"] = coverage_sentence(level, item, count, cutoffs, reach)
            out.append(item)
    return out


def answer(
    result: dict[str, Any],
    asked: int,
    refusal: str | None,
    freq: str | None,
    fewer: str | None = None,
) -> dict[str, Any]:
    """The web app's backtest answer: the model's, plus what was asked, why it differs
    (`refusal`: why the horizon is shorter; `fewer`: why there are fewer origins) and each
    band's coverage in words."""
    method = str(result["method"])
    horizon = int(result["horizon"])
    width = float(result["interval_width"])
    ours = result["scores"].get(method) or {}
    overall = ours.get("overall") or {}
    step = step_word(freq)
    shortened = None
    if refusal and horizon < asked:
        shortened = shortened_note(asked, horizon, refusal, step)
    cutoffs = len(result["folds"])
    up_to = horizon if shortened else None
    reach = f" up to {_steps(horizon, step)} ahead" if up_to else ""
    bands = band_coverage(overall, cutoffs, reach)
    labels = {
        str(b["level"]): band_label(b["level"] / 100, b["coverage"], up_to, step, _interval(b))
        for b in bands
    }
    main = level_item(overall, round(width * 100))
    label = band_label(width, overall.get("coverage"), up_to, step, _interval(main))
    verdict = str(result["verdict"])
    summary = " ".join(part for part in (shortened, fewer, verdict) if part)
    return {
        "method": method,
        "interval_width": width,
        "step": step,
        "horizon_asked": asked,
        "horizon": horizon,
        "cutoffs": cutoffs,
        "shortened": shortened,
        "fewer": fewer,
        "folds": result["folds"],
        "scores": result["scores"],
        "verdict": verdict,
        "summary": summary,
        "scored": overall.get("count"),
        "coverage": bands,
        "band_label": label,
        "band_labels": labels,
        "mase_means": MASE_MEANS,
    }


def _interval(item: Mapping[str, Any] | None) -> tuple[float, float] | None:
    if not item or item.get("low") is None or item.get("high") is None:
        return None
    return float(item["low"]), float(item["high"])
