"""Many model answers at once: the shared answer cache first, then one batch request for the
misses (the model's POST /batch, or POST /backtest with `series`), each answer cached under
the key its single request has, so a page asked later for one ticker finds it.

The requests are the very bodies single requests would send (`model_request`): the fields the
model lets a batch item set (`ITEM_FIELDS`) go with each series, the rest must be shared, so
requests that differ elsewhere go in separate batches. Large sets go in chunks of at most
`chunk` series, a few in flight at once (more replicas, more of them computed at once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import orjson

from tickercast.errors import TickercastError
from tickercast.web.model_client import BatchAnswer, Kind, ModelAnswer

# What a batch item may set for itself (docs/contract.md, "Many series"); the rest is shared.
ITEM_FIELDS = {
    "forecast": ("ds", "y", "periods", "freq"),
    "backtest": ("ds", "y", "horizon", "freq"),
}
CHUNK = 100  # series per batch request
IN_FLIGHT = 4  # batch requests at once

Outcome = ModelAnswer | TickercastError
Send = Callable[[Kind, Mapping[str, Any], Mapping[str, Mapping[str, Any]]], Awaitable[BatchAnswer]]


def groups(
    kind: Kind, requests: Mapping[str, Mapping[str, Any]], chunk: int = CHUNK
) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """The batches that answer `requests` (by id): each its shared fields and its items, at
    most `chunk` items each, in the order the ids came."""
    own = ITEM_FIELDS[kind]
    by_shared: dict[bytes, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}
    for name, request in requests.items():
        shared = {k: v for k, v in request.items() if k not in own}
        item = {k: v for k, v in request.items() if k in own}
        digest = orjson.dumps(shared, option=orjson.OPT_SORT_KEYS)
        by_shared.setdefault(digest, (shared, {}))[1][name] = item
    batches = []
    for shared, items in by_shared.values():
        names = list(items)
        for start in range(0, len(names), chunk):
            batches.append((shared, {n: items[n] for n in names[start : start + chunk]}))
    return batches


async def ask_all(
    send: Send,
    kind: Kind,
    requests: Mapping[str, Mapping[str, Any]],
    chunk: int = CHUNK,
    in_flight: int = IN_FLIGHT,
) -> dict[str, Outcome]:
    """Every request's answer or error, asked in batches through `send`; a batch that fails
    as a whole gives its error to each of its series."""
    outcomes: dict[str, Outcome] = {}
    limiter = anyio.CapacityLimiter(in_flight)

    async def one(shared: dict[str, Any], items: dict[str, dict[str, Any]]) -> None:
        async with limiter:
            try:
                answer = await send(kind, shared, items)
            except TickercastError as exc:
                outcomes.update(dict.fromkeys(items, exc))
                return
        outcomes.update({n: ModelAnswer(c, answer.version) for n, c in answer.answers.items()})
        outcomes.update(answer.errors)

    async with anyio.create_task_group() as tasks:
        for shared, items in groups(kind, requests, chunk):
            tasks.start_soon(one, shared, items)
    return {name: outcomes[name] for name in requests}
