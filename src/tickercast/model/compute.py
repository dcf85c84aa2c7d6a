"""The model's rate limit in what it protects, the CPU: `MODEL_RATE_LIMIT` is milliseconds of
one core (one fit slot) per key, spent computing forecasts.

A computed forecast is charged before its fit what it is estimated to cost (`fit_cost_ms`:
what a fit takes on one core for its rows, steps, method, levels and engine, fitted to the
medians measured on this project's machine; see docs/contract.md), so a key with too little
left gets 429 before any CPU is spent; after the fit, the CPU time its thread took beyond that
estimate is counted too (never refused). The charge comes from the request, not from a clock,
so the same requests cost the same whatever the machine's load. A cached answer costs nothing.
A fold of a backtest and a series of a batch are forecasts like any other: a cold 50-origin
calibrated backtest of 1,250 rows costs about 0.4 s of CPU, not 50 "requests".

`auto` (the default) gives each key three quarters of what the fit slots compute in a minute:
one key alone still leaves a quarter of the CPU to the others, and the site's own pages (each
a few tenths of a second of CPU when cold) meet a full fit queue long before their key's limit.
"""

from __future__ import annotations

import math

from tickercast.contract import CALIBRATED, ForecastRequest
from tickercast.runtime.ratelimit import RateLimit
from tickercast.runtime.redis_store import Store

AUTO = "auto"
AUTO_SHARE = 0.75  # of the fit slots' milliseconds, per key
UNIT_MS = 10  # counted in hundredths of a second: a window holds at most a few thousand
# The fast engine's cost on one core, in milliseconds: a fixed part (the dates, the answer's
# encoding), a part per row (the design matrix and the fit) and a part per step forecast (plain
# Prophet's 1,000 uncertainty draws per step; the calibrated band's quantiles of the series'
# own changes cost little), half as much again with levels (each level's quantiles of the
# draws). The `cmdstan` engine's optimizer runs in a process of its own, a third of a
# millisecond per row on top.
BASE_MS = 4.0
ROW_MS = 1 / 400
STEP_MS = {CALIBRATED: 0.02}
DRAWS_STEP_MS = 0.3
LEVELS_FACTOR = 1.5
CMDSTAN_BASE_MS = 40.0
CMDSTAN_ROW_MS = 1 / 3


def fit_cost_ms(req: ForecastRequest) -> float:
    """The estimated milliseconds of one core that computing `req` takes."""
    per_step = STEP_MS.get(req.method, DRAWS_STEP_MS)
    if req.levels:
        per_step *= LEVELS_FACTOR
    cost = BASE_MS + ROW_MS * req.n + per_step * req.periods
    if req.engine == "cmdstan":
        cost += CMDSTAN_BASE_MS + CMDSTAN_ROW_MS * req.n
    return cost


def units(ms: float) -> int:
    """Milliseconds as the limit counts them: hundredths of a second, rounded up."""
    return max(0, math.ceil(ms / UNIT_MS))


def compute_rate(setting: str, fit_slots: int) -> str:
    """The limit's rate in milliseconds (`limits` syntax): `setting` itself, or for `auto`
    `AUTO_SHARE` of `fit_slots` slots' milliseconds per minute."""
    if setting.strip().lower() != AUTO:
        return setting
    return f"{max(UNIT_MS, int(fit_slots * 60_000 * AUTO_SHARE))}/minute"


class ComputeLimit:
    """Milliseconds of CPU per key, charged as `fit_cost_ms` says and trued up after."""

    def __init__(self, setting: str, fit_slots: int, store: Store) -> None:
        self.rate = compute_rate(setting, fit_slots)
        self.limit = RateLimit(self.rate, store, "model-compute", unit=UNIT_MS)

    async def charge(self, key: str, req: ForecastRequest) -> int:
        """Before a fit: count its estimated cost for `key`, or RateLimited (counting nothing)
        when `key` has not that much left. The units charged."""
        # Never more than the whole window, so any one request can pass when a key is idle.
        charged = min(max(1, units(fit_cost_ms(req))), self.limit.item.amount)
        await self.limit.hit(key, charged)
        return charged

    async def settle(self, key: str, charged: int, seconds: float) -> None:
        """After a fit that took `seconds` of CPU: count what it took beyond `charged`."""
        extra = units(seconds * 1000) - charged
        if extra > 0:
            await self.limit.count(key, extra)
