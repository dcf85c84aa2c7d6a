"""How good is this forecast? The model answers that (POST /backtest: rolling origins, each
fit only on what came before, scored against what happened and against the random walk).

This module decides what to ask for and words what came back; nothing here does I/O.
The horizon backtested is the one the user asked for; when the history is too short to score
it at `CUTOFFS` origins, the longest shorter one of `FALLBACK_HORIZONS` that fits, with the
model's own reason for the shortening.
"""

from __future__ import annotations

from typing import Any

from tickercast.quant.calendars import step_word

CUTOFFS = 5
FALLBACK_HORIZONS = (120, 60, 20, 5, 1)
MASE_MEANS = (
    "MASE = our mean absolute error ÷ the random walk's; below 1 beats it. The interval score "
    "is the band's width plus a penalty for every price outside it; ÷ the random walk's band's, "
    "below 1 means a narrower band that still holds."
)


def horizons_to_try(asked: int) -> list[int]:
    """The horizon asked for first, then shorter ones, longest first."""
    return [asked] + [h for h in FALLBACK_HORIZONS if h < asked]


def band_label(
    interval_width: float,
    coverage: float | None,
    up_to: int | None = None,
    step: str = "trading day",
) -> str:
    """The band's legend: its nominal width and, once measured, what it held (`up_to`: the
    horizon measured, when shorter than the one drawn, in `step`s)."""
    label = f"{interval_width:.0%} band"
    if coverage is None:
        return label
    label = f"{label}, held {coverage:.0%} of prices in backtests"
    return f"{label} up to {_steps(up_to, step)} ahead" if up_to else label


def shortened_note(asked: int, horizon: int, reason: str, step: str = "trading day") -> str:
    reason = reason.rstrip(".")
    return (
        f"Backtested {_steps(horizon, step)} ahead, not the {_steps(asked, step)} asked for: "
        f"{reason}."
    )


def _steps(n: int, step: str) -> str:
    return f"{n} {step}" if n == 1 else f"{n} {step}s"


def answer(
    result: dict[str, Any], asked: int, refusal: str | None, freq: str | None
) -> dict[str, Any]:
    """The web app's backtest answer: the model's, plus what was asked and why it differs."""
    method = str(result["method"])
    horizon = int(result["horizon"])
    width = float(result["interval_width"])
    ours = result["scores"].get(method) or {}
    coverage = (ours.get("overall") or {}).get("coverage")
    step = step_word(freq)
    shortened = None
    if refusal and horizon < asked:
        shortened = shortened_note(asked, horizon, refusal, step)
    verdict = str(result["verdict"])
    return {
        "method": method,
        "interval_width": width,
        "step": step,
        "horizon_asked": asked,
        "horizon": horizon,
        "cutoffs": len(result["folds"]),
        "shortened": shortened,
        "folds": result["folds"],
        "scores": result["scores"],
        "verdict": verdict,
        "summary": f"{shortened} {verdict}" if shortened else verdict,
        "scored": (ours.get("overall") or {}).get("count"),
        "band_label": band_label(width, coverage, horizon if shortened else None, step),
        "mase_means": MASE_MEANS,
    }
