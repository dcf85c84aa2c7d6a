"""POST /batch, and POST /backtest with `series`: each item of a batch is answered as the single
request its body makes would be (the same parser, cache entries, rate limit and fit slots),
and the answers are spliced, as the bytes they are, into one body:

    {"forecasts": {"<id>": <the single answer>, ...}, "errors": {"<id>": {"message", "status"}}}

An item's error is the one its single request would get (400, 429, 503, ...; with
`retry_after`, the seconds its Retry-After header would say, when it has one), so one bad
series never fails the others and a client knows which to retry, and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from tickercast.contract import BatchItem
from tickercast.errors import TickercastError

log = logging.getLogger("tickercast.model")


class Answer(Protocol):
    @property
    def content(self) -> bytes: ...
    @property
    def outcome(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def model_version(self) -> str: ...


@dataclass
class Batch:
    """The answers gathered so far, by id, in the batch's order once `body` is built."""

    answers: dict[str, Answer] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)  # message, status...

    def body(self, order: Sequence[str], answers: str) -> bytes:
        """The batch's answer; `answers` names its object of answers ("forecasts")."""
        parts = [
            orjson.dumps(sid) + b":" + self.answers[sid].content
            for sid in order
            if sid in self.answers
        ]
        errors = {sid: self.errors[sid] for sid in order if sid in self.errors}
        head = b'{"' + answers.encode() + b'":{'
        return head + b",".join(parts) + b'},"errors":' + orjson.dumps(errors) + b"}"

    @property
    def outcome(self) -> str:
        outcomes = {a.outcome for a in self.answers.values()}
        return "computed" if "computed" in outcomes else "cached" if outcomes else "error"

    @property
    def rows(self) -> int:
        return sum(a.rows for a in self.answers.values())

    @property
    def model_version(self) -> str:
        return next((a.model_version for a in self.answers.values()), "")


async def answer_all(
    items: Sequence[BatchItem],
    step: Callable[[Mapping[str, Any]], Awaitable[Answer]],
    parallel: int,
) -> Batch:
    """Each item's answer from `step`, at most `parallel` at once."""
    batch = Batch()
    gate = asyncio.Semaphore(max(1, parallel))

    async def one(item: BatchItem) -> None:
        async with gate:
            try:
                if item.problem is not None:
                    raise item.problem
                batch.answers[item.id] = await step(item.body)
            except TickercastError as exc:
                batch.errors[item.id] = _error(exc)
            except Exception:
                log.exception("batch item %r failed", item.id[:40])
                unexpected = TickercastError()
                batch.errors[item.id] = {"message": unexpected.client_message, "status": 500}

    await asyncio.gather(*(one(item) for item in items))
    return batch


def _error(exc: TickercastError) -> dict[str, Any]:
    """An item's error as its single request would get it: message, status, and the seconds
    of its Retry-After header when it has one."""
    error: dict[str, Any] = {"message": exc.client_message, "status": exc.status}
    if exc.retry_after is not None:
        error["retry_after"] = exc.retry_after
    return error
