"""Turn a forecast table into the contract's response columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tickercast.contract import VALUE_KEYS


def contract_columns(
    forecast: Mapping[str, Any], seasonality_names: Iterable[str]
) -> dict[str, np.ndarray]:
    """The 18 value columns from a Prophet-style forecast (a table, or columns by name).

    `seasonal` is the sum of every additive component (Prophet's `additive_terms`);
    `seasonalities` is the sum of the seasonalities alone. A component the fit did not use is 0.
    """
    n = len(forecast["yhat"])
    zeros = np.zeros(n)

    def col(name: str) -> np.ndarray:
        return np.asarray(forecast[name], dtype=float) if name in forecast else zeros

    out: dict[str, np.ndarray] = {}
    for base in ("yhat", "trend", "weekly", "yearly"):
        for suffix in ("", "_lower", "_upper"):
            out[base + suffix] = col(base + suffix)
    names = list(seasonality_names)
    for suffix in ("", "_lower", "_upper"):
        out["seasonal" + suffix] = col("additive_terms" + suffix)
        out["seasonalities" + suffix] = sum((col(name + suffix) for name in names), zeros.copy())
    return {key: out[key] for key in VALUE_KEYS}
