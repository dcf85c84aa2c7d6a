"""The whole stack under faults (the short run of `make chaos`, bench/chaos.py): the model
service, Redis, PostgreSQL and the replayed Yahoo each reset, black-holed, partitioned or slowed
in turn under simulated users, then every fault lifted. Every error a user sees is a sentence;
while a fault lasts, no 5xx but 503/504 with Retry-After; none from 30 s after the last fault
is lifted; every forecast the API showed is in the record's database."""

from __future__ import annotations

import pytest
from bench.chaos import chaos, judge, report

pytestmark = pytest.mark.slow


def test_faults_on_every_dependency_lose_nothing_and_say_why() -> None:
    run = chaos(short=True, user_count=4)
    verdict = judge(run)
    said = report(run, verdict)
    assert run.answers and all(seconds >= 0 for _, seconds in verdict.recovery), said
    assert any(a.shown for a in run.answers), said  # forecasts were shown, and checked
    assert verdict.no_sentence == [], said
    assert verdict.bad_5xx_in_fault == [], said
    assert verdict.late_5xx == [], said
    assert verdict.lost == set(), said
